import type { ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import type { OpenAIDelays } from "./openai-client.ts";
import { REALTIME_PATH, type RealtimeScript, realtimeUpgrade } from "./openai-realtime.ts";
import {
  type FakeServer,
  json,
  type NamespaceState,
  type RecordedRequest,
  startFakeServer,
} from "./server.ts";
import { tone, wavFile } from "./wav.ts";

/**
 * A fake OpenAI speaking the real wire formats of the three endpoints we use, deterministic
 * and scriptable per namespace (test/fakes/openai-client.ts):
 *   POST /v1/audio/transcriptions  multipart (file, model[, prompt]) -> {"text": ...}; a WAV under
 *                                  0.1 s gets OpenAI's 400 (audio_too_short, or invalid_value
 *                                  for the gpt-4o transcribe models)
 *   POST /v1/chat/completions      JSON -> chat.completion, or SSE chat.completion.chunk lines + [DONE];
 *                                  a scripted reply may be tool calls (streamed as OpenAI does: id and
 *                                  name first, arguments in fragments, finish_reason "tool_calls").
 *                                  Refused as OpenAI refuses them: malformed tool definitions, an empty
 *                                  `tools`, `tool_choice` without tools, a `tool` message answering no
 *                                  preceding tool call, tool calls left without their `tool` answers;
 *                                  reasoning models refuse `max_tokens` and a temperature other than
 *                                  1 with OpenAI's 400 body (`unsupported_parameter` / `unsupported_value`)
 *   POST /v1/audio/speech          JSON -> a quiet 440 Hz tone, 50 ms per input character, as
 *                                  wav (24 kHz mono s16le), pcm (raw, streamed in several chunks)
 *                                  or "mp3" (the same WAV bytes labelled audio/mpeg: nothing here
 *                                  decodes it, and encoding real MP3 would need a codec); input
 *                                  over 4,096 characters gets OpenAI's 400 string_too_long
 *   WS   /v1/realtime?model=…       the Realtime API's GA event protocol (test/fakes/openai-realtime.ts)
 *   POST /__openai/script          {transcripts?, replies?, delayMs?, realtime?} (not under /v1, no auth)
 *   GET  /__openai/realtime/turns            [{speech_stopped_at, first_audio_at}]: when the Realtime fake
 *                                            sent each speech_stopped and the answer's first delta (performance.now())
 *   GET  /__openai/realtime/sockets          {open}: Realtime sockets open now
 * Every /v1 request needs `Authorization: Bearer <any key>`. Control requests are recorded
 * too, like every request the frame receives: filter records by path.
 */

export const DEFAULT_TRANSCRIPT = "I would like to know your opening hours.";
export const SAMPLE_RATE = 24_000;
const MS_PER_CHARACTER = 50;
/** OpenAI refuses shorter transcription uploads (400 audio_too_short). */
const MIN_AUDIO_SECONDS = 0.1;
/** OpenAI's limit on `input` of /v1/audio/speech, in characters. */
const SPEECH_MAX_CHARS = 4096;
const TONE_HZ = 440;
const TONE_AMPLITUDE = 1000; // about -30 dBFS: audible in a player, quiet on a call
// Odd on purpose: real streams split samples across chunks, and consumers must cope.
const PCM_CHUNK_BYTES = 4801;

/** The reply when none is scripted: echoes the last user message, so tests can see what was sent. */
export function defaultReply(lastUserMessage: string): string {
  return `You said: ${lastUserMessage.replace(/[\s.!?]+$/, "")}. We are open nine to five.`;
}

const ScriptedToolCalls = z.strictObject({
  content: z.string().optional(),
  tool_calls: z
    .array(
      z.strictObject({
        name: z.string(),
        arguments: z.union([z.string(), z.record(z.string(), z.unknown())]),
      }),
    )
    .min(1),
});
type ScriptedReply = string | z.output<typeof ScriptedToolCalls>;

interface Script extends RealtimeScript {
  replies: ScriptedReply[];
  delayMs: OpenAIDelays;
}

const ScriptBody = z.strictObject({
  transcripts: z.array(z.string()).optional(),
  replies: z.array(z.union([z.string(), ScriptedToolCalls])).optional(),
  delayMs: z
    .strictObject({
      stt: z.number().int().min(0).optional(),
      llmFirstToken: z.number().int().min(0).optional(),
      tts: z.number().int().min(0).optional(),
      ttsChunkGap: z.number().int().min(0).optional(),
    })
    .optional(),
  realtime: z
    .strictObject({
      firstAudioDelayMs: z.number().int().min(0).optional(),
      dropAfterResponses: z.number().int().min(1).optional(),
      deltaIntervalMs: z.number().int().min(0).optional(),
      toolCall: z.strictObject({ name: z.string().min(1), arguments: z.string() }).optional(),
    })
    .optional(),
});

const WireToolCall = z.object({
  id: z.string().min(1),
  type: z.literal("function"),
  function: z.object({ name: z.string(), arguments: z.string() }),
});

const ChatMessage = z.discriminatedUnion("role", [
  z.object({ role: z.enum(["system", "developer", "user"]), content: z.string() }),
  z.object({
    role: z.literal("assistant"),
    content: z.string().nullable().optional(),
    tool_calls: z.array(WireToolCall).min(1).optional(),
  }),
  z.object({ role: z.literal("tool"), tool_call_id: z.string().min(1), content: z.string() }),
]);

const ChatBody = z.object({
  model: z.string().min(1),
  messages: z.array(ChatMessage).min(1),
  stream: z.boolean().optional(),
  tools: z
    .array(
      z.object({
        type: z.literal("function"),
        function: z.object({
          name: z.string(),
          description: z.string().optional(),
          parameters: z.record(z.string(), z.unknown()).optional(),
        }),
      }),
    )
    .max(128)
    .optional(),
  tool_choice: z.enum(["none", "auto", "required"]).optional(),
  temperature: z.number().min(0).max(2).optional(),
  max_tokens: z.number().int().min(1).optional(),
  max_completion_tokens: z.number().int().min(1).optional(),
});
type ChatBody = z.output<typeof ChatBody>;

/** What the real API answers 400 to in a body that parses; null when it would accept it. */
function chatRefusal(body: ChatBody): { message: string; param: string | null; code: string | null } | null {
  if (body.tools !== undefined && body.tools.length === 0) {
    return {
      message:
        "Invalid 'tools': empty array. Expected an array with minimum length 1, but got an empty array instead.",
      param: "tools",
      code: "empty_array",
    };
  }
  if (body.tool_choice !== undefined && !body.tools) {
    return {
      message: "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
      param: "tool_choice",
      code: null,
    };
  }
  for (const [i, tool] of (body.tools ?? []).entries()) {
    const { name, parameters } = tool.function;
    if (!/^[a-zA-Z0-9_-]{1,64}$/.test(name)) {
      return {
        message: `Invalid 'tools[${i}].function.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.`,
        param: `tools[${i}].function.name`,
        code: "invalid_value",
      };
    }
    if (parameters !== undefined && parameters.type !== "object") {
      return {
        message: `Invalid schema for function '${name}': schema must be a JSON Schema of 'type: "object"', got 'type: ${JSON.stringify(parameters.type ?? "None")}'.`,
        param: `tools[${i}].function.parameters`,
        code: "invalid_function_parameters",
      };
    }
  }
  // Every tool call answered by a tool message right after it; every tool message answering one.
  let open: Set<string> | null = null;
  let openAt = -1;
  for (const [i, message] of body.messages.entries()) {
    if (message.role === "tool") {
      if (!open?.delete(message.tool_call_id)) {
        return {
          message:
            "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
          param: `messages.[${i}].role`,
          code: null,
        };
      }
      continue;
    }
    if (open && open.size > 0) break;
    open =
      message.role === "assistant" && message.tool_calls
        ? new Set(message.tool_calls.map((c) => c.id))
        : null;
    openAt = i;
  }
  if (open && open.size > 0) {
    return {
      message: `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${[...open].join(", ")}`,
      param: `messages.[${openAt}].role`,
      code: null,
    };
  }
  return null;
}

/** The model's turn: tool calls only when tools allow them and name a tool that was offered. */
function nextReply(
  script: Script,
  body: ChatBody,
  lastUser: string,
): { content: string; toolCalls: ToolCallOut[] } {
  const scripted = script.replies.shift();
  if (scripted === undefined) return { content: defaultReply(lastUser), toolCalls: [] };
  if (typeof scripted === "string") return { content: scripted, toolCalls: [] };
  const offered = new Set((body.tools ?? []).map((t) => t.function.name));
  const allowed = body.tool_choice !== "none" && scripted.tool_calls.every((c) => offered.has(c.name));
  // A model told not to call tools (or offered other ones) answers in words instead.
  if (!allowed) return { content: scripted.content || defaultReply(lastUser), toolCalls: [] };
  return {
    content: scripted.content ?? "",
    toolCalls: scripted.tool_calls.map((c) => ({
      id: `call_${Math.random().toString(36).slice(2, 14)}`,
      type: "function" as const,
      function: {
        name: c.name,
        arguments: typeof c.arguments === "string" ? c.arguments : JSON.stringify(c.arguments),
      },
    })),
  };
}

interface ToolCallOut {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/**
 * OpenAI's reasoning models (o1, o3, o4-mini, GPT-5 and its minis; not gpt-5-chat-latest), written
 * here from OpenAI's answers rather than imported from src/, so the fake stays an independent check.
 */
const REASONING_MODEL = /^(o\d|gpt-5(?!(\.\d+)?-chat))/i;

/** What OpenAI answers a chat request to `model` whose parameters it refuses, or null when it accepts them. */
function refusedParameter(
  body: z.output<typeof ChatBody>,
): { message: string; param: string; code: string } | null {
  if (!REASONING_MODEL.test(body.model)) return null;
  if (body.max_tokens !== undefined) {
    return {
      message:
        "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
      param: "max_tokens",
      code: "unsupported_parameter",
    };
  }
  if (body.temperature !== undefined && body.temperature !== 1) {
    return {
      message: `Unsupported value: 'temperature' does not support ${body.temperature} with this model. Only the default (1) value is supported.`,
      param: "temperature",
      code: "unsupported_value",
    };
  }
  return null;
}

const SpeechBody = z.object({
  model: z.string().min(1),
  voice: z.string().min(1),
  input: z.string().min(1),
  response_format: z.enum(["mp3", "wav", "pcm"]).default("mp3"),
});

export function startOpenAIFake(): Promise<FakeServer> {
  return startFakeServer(
    "openai",
    async (req, res, state) => {
      const script = scriptOf(state);
      if (req.path === "/__openai/script" && req.method === "POST") return applyScript(req, res, script);
      if (req.path === "/__openai/realtime/turns") return json(res, 200, script.turns);
      if (req.path === "/__openai/realtime/sockets") return json(res, 200, { open: script.openSockets });
      if (!/^Bearer \S+$/.test(req.headers.authorization ?? "")) {
        return openaiError(
          res,
          401,
          "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        );
      }
      const route = `${req.method} ${req.path}`;
      if (route === "POST /v1/audio/transcriptions") return transcribe(req, res, script);
      if (route === "POST /v1/chat/completions") return complete(req, res, script);
      if (route === "POST /v1/audio/speech") return speak(req, res, script);
      return openaiError(res, 404, `Invalid URL (${route})`);
    },
    (ctx) => {
      if (ctx.req.path !== REALTIME_PATH)
        return ctx.refuse(404, { error: { message: `Invalid URL (${ctx.req.path})` } });
      return realtimeUpgrade(ctx, scriptOf(ctx.state));
    },
  );
}

function scriptOf(state: NamespaceState): Script {
  let script = state.get("openai") as Script | undefined;
  if (!script) {
    script = { transcripts: [], replies: [], delayMs: {}, realtime: {}, turns: [], openSockets: 0 };
    state.set("openai", script);
  }
  return script;
}

function applyScript(req: RecordedRequest, res: ServerResponse, script: Script): void {
  const body = readJson(req, res, ScriptBody);
  if (!body) return;
  script.transcripts.push(...(body.transcripts ?? []));
  script.replies.push(...(body.replies ?? []));
  Object.assign(script.delayMs, body.delayMs);
  Object.assign(script.realtime, body.realtime);
  json(res, 200, { ok: true });
}

async function transcribe(req: RecordedRequest, res: ServerResponse, script: Script): Promise<void> {
  const contentType = req.headers["content-type"] ?? "";
  if (!contentType.startsWith("multipart/form-data")) {
    return openaiError(res, 400, "Expected a multipart/form-data body.");
  }
  const form = await new Response(Buffer.from(req.bodyBase64, "base64"), {
    headers: { "content-type": contentType },
  }).formData();
  const file = form.get("file");
  const model = form.get("model");
  if (!(file instanceof File) || file.size === 0) return openaiError(res, 400, "Missing file.", "file");
  if (typeof model !== "string" || model === "") return openaiError(res, 400, "Missing model.", "model");
  const format = form.get("response_format") ?? "json";
  if (format !== "json") return openaiError(res, 400, "The fake answers response_format=json only.");
  const seconds = wavSeconds(Buffer.from(await file.arrayBuffer()));
  if (seconds !== null && seconds < MIN_AUDIO_SECONDS) {
    // whisper-1 and the gpt-4o transcribe models word this refusal differently.
    return model.startsWith("gpt-")
      ? openaiError(
          res,
          400,
          `audio duration ${seconds.toFixed(1)} seconds is shorter than ${MIN_AUDIO_SECONDS} seconds which is the minimum for this model`,
          null,
          "invalid_value",
        )
      : openaiError(
          res,
          400,
          `Audio file is too short. Minimum audio length is ${MIN_AUDIO_SECONDS} seconds.`,
          "file",
          "audio_too_short",
        );
  }
  await sleep(script.delayMs.stt ?? 0);
  json(res, 200, { text: script.transcripts.shift() ?? DEFAULT_TRANSCRIPT });
}

async function complete(req: RecordedRequest, res: ServerResponse, script: Script): Promise<void> {
  const body = readJson(req, res, ChatBody);
  if (!body) return;
  const refusal = refusedParameter(body) ?? chatRefusal(body);
  if (refusal) return openaiError(res, 400, refusal.message, refusal.param, refusal.code);
  const { model, messages, stream } = body;
  if (/^gpt-realtime/.test(model)) {
    return openaiError(
      res,
      404,
      "This is not a chat model and thus not supported in the v1/chat/completions endpoint.",
      "model",
    );
  }
  const lastUser = messages.findLast((m) => m.role === "user")?.content ?? "";
  const { content: reply, toolCalls } = nextReply(script, body, lastUser);
  const finishReason = toolCalls.length > 0 ? "tool_calls" : "stop";
  const id = `chatcmpl-fake${Math.random().toString(36).slice(2, 10)}`;
  const created = Math.floor(Date.now() / 1000);
  const promptTokens = Math.ceil(JSON.stringify(messages).length / 4);
  const completionTokens = Math.ceil((reply.length + JSON.stringify(toolCalls).length) / 4);

  if (!stream) {
    await sleep(script.delayMs.llmFirstToken ?? 0);
    return json(res, 200, {
      id,
      object: "chat.completion",
      created,
      model,
      choices: [
        {
          index: 0,
          message: {
            role: "assistant",
            content: toolCalls.length > 0 && reply === "" ? null : reply,
            refusal: null,
            ...(toolCalls.length > 0 && { tool_calls: toolCalls }),
          },
          logprobs: null,
          finish_reason: finishReason,
        },
      ],
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
      },
    });
  }

  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  const chunk = (delta: object, finishReason: string | null) =>
    `data: ${JSON.stringify({
      id,
      object: "chat.completion.chunk",
      created,
      model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    })}\n\n`;
  res.write(chunk({ role: "assistant", content: "", refusal: null }, null));
  await sleep(script.delayMs.llmFirstToken ?? 0);
  // One word per delta, each with its leading space, like real token deltas.
  for (const word of reply.match(/\s*\S+/g) ?? []) {
    if (res.destroyed) return;
    res.write(chunk({ content: word }, null));
  }
  // Tool calls as OpenAI streams them: id, type and name first, then the arguments in pieces.
  for (const [index, call] of toolCalls.entries()) {
    const head = {
      index,
      id: call.id,
      type: "function",
      function: { name: call.function.name, arguments: "" },
    };
    res.write(chunk({ tool_calls: [head] }, null));
    for (const piece of call.function.arguments.match(/[\s\S]{1,8}/g) ?? []) {
      res.write(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }, null));
    }
  }
  res.write(chunk({}, finishReason));
  res.end("data: [DONE]\n\n");
}

async function speak(req: RecordedRequest, res: ServerResponse, script: Script): Promise<void> {
  const body = readJson(req, res, SpeechBody);
  if (!body) return;
  const { input, response_format: format } = body;
  // OpenAI counts characters as Python does (code points) and answers its validator's list.
  if ([...input].length > SPEECH_MAX_CHARS) {
    return openaiError(
      res,
      400,
      `[{'type': 'string_too_long', 'loc': ('body', 'input'), 'msg': 'String should have at most ${SPEECH_MAX_CHARS} characters', 'ctx': {'max_length': ${SPEECH_MAX_CHARS}}}]`,
    );
  }
  const pcm = tonePcm(input.length * MS_PER_CHARACTER);

  if (format === "pcm") {
    res.writeHead(200, { "content-type": "audio/pcm", "transfer-encoding": "chunked" });
    await sleep(script.delayMs.tts ?? 0);
    for (let at = 0; at < pcm.byteLength; at += PCM_CHUNK_BYTES) {
      if (res.destroyed) return;
      res.write(pcm.subarray(at, at + PCM_CHUNK_BYTES));
      // Let each chunk leave on its own rather than coalesce into one write.
      await sleep(script.delayMs.ttsChunkGap ?? 2);
    }
    return void res.end();
  }
  await sleep(script.delayMs.tts ?? 0);
  res.writeHead(200, { "content-type": format === "wav" ? "audio/wav" : "audio/mpeg" });
  res.end(wavFile(pcm, SAMPLE_RATE));
}

/** Mono 16-bit little-endian samples of a sine tone. */
export function tonePcm(durationMs: number): Buffer {
  return tone(SAMPLE_RATE, durationMs, TONE_HZ, TONE_AMPLITUDE);
}

/** The body parsed and validated, or undefined once a 400 has been answered as OpenAI would. */
function readJson<T extends z.ZodType>(
  req: RecordedRequest,
  res: ServerResponse,
  schema: T,
): z.output<T> | undefined {
  let body: unknown;
  try {
    body = JSON.parse(req.body);
  } catch (err) {
    openaiError(res, 400, `We could not parse the JSON body of your request. (${String(err)})`);
    return undefined;
  }
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  openaiError(res, 400, z.prettifyError(parsed.error));
  return undefined;
}

function openaiError(
  res: ServerResponse,
  status: number,
  message: string,
  param: string | null = null,
  code: string | null = status === 401 ? "invalid_api_key" : null,
): void {
  json(res, status, { error: { message, type: "invalid_request_error", param, code } });
}

/** The length of a PCM WAV upload in seconds, or null when it is not one (then it is not checked). */
function wavSeconds(file: Buffer): number | null {
  if (
    file.length < 12 ||
    file.toString("ascii", 0, 4) !== "RIFF" ||
    file.toString("ascii", 8, 12) !== "WAVE"
  ) {
    return null;
  }
  let byteRate = 0;
  for (let at = 12; at + 8 <= file.length; ) {
    const id = file.toString("ascii", at, at + 4);
    const size = file.readUInt32LE(at + 4);
    if (id === "fmt " && at + 20 <= file.length) byteRate = file.readUInt32LE(at + 16);
    if (id === "data" && byteRate > 0) return Math.min(size, file.length - at - 8) / byteRate;
    at += 8 + size + (size % 2);
  }
  return null;
}
