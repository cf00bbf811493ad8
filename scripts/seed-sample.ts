import { scriptEnv } from "./dev-vars.ts";

/**
 * The seed's create_sample_config, through the admin API of a running server
 * (`npm run dev` first): BASE_URL (default http://localhost:4002), ADMIN_API_KEY and
 * TWILIO_PHONE_NUMBER (default +18668134984) from the environment or .dev.vars.
 */
const settings = scriptEnv(process.cwd(), process.env);
const baseUrl = (settings.BASE_URL ?? "http://localhost:4002").replace(/\/+$/, "");
const adminKey = settings.ADMIN_API_KEY?.split(",")[0]?.trim();
const phone = settings.TWILIO_PHONE_NUMBER ?? "+18668134984";

if (!adminKey) {
  console.error("ADMIN_API_KEY is not set (in the environment or .dev.vars)");
  process.exit(1);
}

const sample = {
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
};

let response: Response;
try {
  response = await fetch(`${baseUrl}/admin/phone-config`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${adminKey}` },
    body: JSON.stringify(sample),
  });
} catch (err) {
  console.error(`Could not reach ${baseUrl}: is the server running (npm run dev)?`, err);
  process.exit(1);
}
const body = (await response.json()) as { message?: string; error?: { message: string } };
if (!response.ok) {
  console.error(`Failed (${response.status}): ${body.error?.message ?? JSON.stringify(body)}`);
  process.exit(1);
}
console.log(body.message);
console.log(`  Display Name: ${sample.display_name}`);
console.log(`  TTS Voice: ${sample.tts_voice}`);
console.log(`  LLM Model: ${sample.inference_model}`);
