import { pathToFileURL } from "node:url";
import { bearerKey } from "./configs.ts";
import { scriptEnv } from "./dev-vars.ts";

/**
 * The seed's create_sample_config, through the admin API of a running server
 * (`npm run dev` first): BASE_URL (default http://localhost:4002), ADMIN_API_KEY and
 * TWILIO_PHONE_NUMBER (default +18668134984) from the environment or .dev.vars.
 * A number that already exists (active or not) is left as it is unless `--replace` is given:
 * a POST would replace its whole configuration and reactivate it.
 */

/** The sample configuration for `phone` (E.164). */
export const sampleConfig = (phone: string) => ({
  phone_number: phone,
  display_name: "Sample Support Line",
  stt_model: "whisper-1",
  tts_model: "tts-1",
  tts_voice: "nova",
  inference_model: "gpt-4o-mini",
  temperature: 0.7,
  max_tokens: 500,
  system_prompt:
    "You are a helpful customer support agent. Provide concise, friendly responses. Keep answers under 2 sentences when possible.",
  greeting: "Welcome to customer support! How can I help you today?",
  enable_interrupts: true,
  interrupt_timeout: 0.5,
  enable_recording: true,
  max_call_duration: 3600,
  is_active: true,
});

/**
 * Creates the sample number, or with `replace` overwrites it; an existing one is otherwise left
 * untouched. Returns the lines to print; throws with the server's message on any refusal.
 */
export async function seedSample(options: {
  baseUrl: string;
  adminKey: string;
  phone: string;
  replace: boolean;
}): Promise<string[]> {
  const headers = { "Content-Type": "application/json", Authorization: `Bearer ${options.adminKey}` };
  const url = `${options.baseUrl}/admin/phone-config`;
  const failure = async (response: Response) => {
    const body = (await response.json().catch(() => null)) as { error?: { message: string } } | null;
    return new Error(`Failed (${response.status}): ${body?.error?.message ?? "no answer"}`);
  };
  if (!options.replace) {
    const existing = await fetch(`${url}/${encodeURIComponent(options.phone)}`, { headers });
    if (existing.ok) {
      return [`${options.phone} exists, left as is (npm run seed:sample -- --replace overwrites it)`];
    }
    if (existing.status !== 404) throw await failure(existing);
  }
  const sample = sampleConfig(options.phone);
  const response = await fetch(url, { method: "POST", headers, body: JSON.stringify(sample) });
  if (!response.ok) throw await failure(response);
  const body = (await response.json()) as { message: string };
  return [
    body.message,
    `  Display Name: ${sample.display_name}`,
    `  TTS Voice: ${sample.tts_voice}`,
    `  LLM Model: ${sample.inference_model}`,
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const settings = scriptEnv(process.cwd(), process.env);
  const baseUrl = (settings.BASE_URL ?? "http://localhost:4002").replace(/\/+$/, "");
  const adminKey = bearerKey(settings.ADMIN_API_KEY);
  if (!adminKey) {
    console.error("ADMIN_API_KEY is not set (in the environment or .dev.vars)");
    process.exit(1);
  }
  const phone = settings.TWILIO_PHONE_NUMBER ?? "+18668134984";
  const replace = process.argv.slice(2).includes("--replace");
  try {
    for (const line of await seedSample({ baseUrl, adminKey, phone, replace })) console.log(line);
  } catch (err) {
    const reach =
      err instanceof TypeError ? `Could not reach ${baseUrl}: is the server running (npm run dev)? ` : "";
    console.error(`${reach}${err instanceof Error ? err.message : err}`);
    process.exitCode = 1;
  }
}
