import { setTimeout as sleep } from "node:timers/promises";
import type { WebSocket } from "ws";
import { z } from "zod";
import { decodeSample, encodeSample } from "../../src/audio/mulaw.ts";
import type { UpgradeContext } from "./server.ts";

/**
 * A fake of OpenAI's Realtime API over WebSocket (GA interface: `wss://…/v1/realtime?model=…`,
 * `Authorization: Bearer`, no `OpenAI-Beta` header). It speaks the GA event protocol and
 * refuses what the real one refuses:
 * - the handshake: no key → 401; a model that is not a realtime model → 404 (model_not_found);
 *   the beta header → the fake speaks GA only (400);
 * - unknown client event types, malformed JSON, bad `session.update` fields (unknown
 *   parameters such as `temperature`, voices and formats the API does not have, output tokens
 *   past 4096, changing the voice after audio was produced) → an `error` event naming the
 *   param, with the client's event_id;
 * - `response.create` while a response is active, `response.cancel` with none, a truncate past
 *   the audio sent or of an unknown item, `output_audio_buffer.clear` (WebRTC only) → `error`.
 * Caller audio (`audio/pcmu`) goes through an energy VAD with the session's
 * `silence_duration_ms`; each utterance is committed, transcribed (the scripted transcripts)
 * and answered (the scripted replies, or the quoted text of a response's instructions, as an
 * obedient model says a greeting) with μ-law audio, 50 ms per character, in deltas of an odd
 * size. Every client event is recorded as a "WS" request with the event as its body.
 */

export interface RealtimeScript {
  transcripts: string[];
  /** shared with Chat Completions: a scripted tool call is answered here with its `content` */
  replies: Array<string | { content?: string }>;
  /**
   * Each utterance the VAD ended (GET /__openai/realtime/turns), on this process's performance
   * clock: when its speech_stopped was sent, and when the first audio delta of the answer to it
   * was (so a bench subtracts what the fake really waited, not the delay it was asked for).
   */
  turns: Array<{ speech_stopped_at: number; first_audio_at?: number }>;
  /** Realtime sockets open now (GET /__openai/realtime/sockets): a bench waits for 0 between call levels */
  openSockets: number;
  realtime: {
    /** speech_stopped (or response.create) → first audio delta */
    firstAudioDelayMs?: number;
    /** close the socket (1011) after this many responses are done */
    dropAfterResponses?: number;
    /** pause between audio deltas (default 1 ms): a response stays active this much longer per delta */
    deltaIntervalMs?: number;
    /** the next answer to the caller is this function call (the tool must be in the session's tools) */
    toolCall?: { name: string; arguments: string };
  };
}

export const REALTIME_PATH = "/v1/realtime";
const MS_PER_CHARACTER = 50;
const BYTES_PER_MS = 8;
/** Odd on purpose: deltas never line up with 20 ms frames. */
const DELTA_BYTES = 2410;
const FRAME_BYTES = 160;
/** Mean |sample| of a 20 ms frame above which it counts as speech. */
const VAD_LEVEL = 400;
const DEFAULT_TRANSCRIPT = "I would like to know your opening hours.";

// As OpenAI documents them (platform.openai.com/docs/api-reference/realtime); kept apart from
// src/config/realtime.ts on purpose, so a wrong list in the app is caught here.
const MODELS = /^gpt-realtime(-mini)?(-\d{4}-\d{2}-\d{2}|-\d+(\.\d+)*)?$/;
const VOICES = [
  "alloy",
  "ash",
  "ballad",
  "coral",
  "echo",
  "sage",
  "shimmer",
  "verse",
  "marin",
  "cedar",
] as const;
const TRANSCRIPTION_MODELS = /^(whisper-1|gpt-4o(-mini)?-transcribe(-[a-z0-9-]+)?)$/;
const CLIENT_EVENTS = [
  "session.update",
  "input_audio_buffer.append",
  "input_audio_buffer.commit",
  "input_audio_buffer.clear",
  "output_audio_buffer.clear",
  "conversation.item.create",
  "conversation.item.retrieve",
  "conversation.item.truncate",
  "conversation.item.delete",
  "response.create",
  "response.cancel",
] as const;

const Format = z.union([
  z.strictObject({ type: z.literal("audio/pcm"), rate: z.literal(24000).optional() }),
  z.strictObject({ type: z.literal("audio/pcmu") }),
  z.strictObject({ type: z.literal("audio/pcma") }),
]);
const ServerVad = z.strictObject({
  type: z.literal("server_vad"),
  threshold: z.number().min(0).max(1).optional(),
  prefix_padding_ms: z.number().int().min(0).optional(),
  silence_duration_ms: z.number().int().min(0).optional(),
  create_response: z.boolean().optional(),
  interrupt_response: z.boolean().optional(),
  idle_timeout_ms: z.number().int().min(5000).max(30000).nullable().optional(),
});
const SemanticVad = z.strictObject({
  type: z.literal("semantic_vad"),
  eagerness: z.enum(["low", "medium", "high", "auto"]).optional(),
  create_response: z.boolean().optional(),
  interrupt_response: z.boolean().optional(),
});
const Tool = z.strictObject({
  type: z.literal("function"),
  name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  description: z.string().optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
});
const SessionSchema = z.strictObject({
  type: z.literal("realtime"),
  model: z.string().optional(),
  instructions: z.string().optional(),
  output_modalities: z
    .array(z.enum(["audio", "text"]))
    .length(1)
    .optional(),
  audio: z
    .strictObject({
      input: z
        .strictObject({
          format: Format.optional(),
          transcription: z
            .strictObject({
              model: z.string().regex(TRANSCRIPTION_MODELS, "is not a transcription model"),
              language: z.string().optional(),
              prompt: z.string().optional(),
            })
            .nullable()
            .optional(),
          turn_detection: z.union([ServerVad, SemanticVad]).nullable().optional(),
          noise_reduction: z
            .strictObject({ type: z.enum(["near_field", "far_field"]) })
            .nullable()
            .optional(),
        })
        .optional(),
      output: z
        .strictObject({
          format: Format.optional(),
          voice: z.enum(VOICES).optional(),
          speed: z.number().min(0.25).max(1.5).optional(),
        })
        .optional(),
    })
    .optional(),
  max_output_tokens: z.union([z.number().int().min(1).max(4096), z.literal("inf")]).optional(),
  tools: z.array(Tool).max(128).optional(),
  tool_choice: z.union([z.enum(["auto", "none", "required"]), z.record(z.string(), z.unknown())]).optional(),
  tracing: z.unknown().optional(),
  truncation: z.unknown().optional(),
  include: z.array(z.literal("item.input_audio_transcription.logprobs")).optional(),
});
type Session = z.output<typeof SessionSchema>;

const Content = z.strictObject({
  type: z.enum(["input_text", "input_audio", "output_text", "output_audio"]),
  text: z.string().optional(),
  audio: z.string().optional(),
  transcript: z.string().optional(),
});
const ItemSchema = z.union([
  z.strictObject({
    id: z.string().optional(),
    type: z.literal("message"),
    role: z.enum(["user", "assistant", "system"]),
    content: z.array(Content).min(1),
    status: z.string().optional(),
  }),
  z.strictObject({
    id: z.string().optional(),
    type: z.literal("function_call_output"),
    call_id: z.string().min(1),
    output: z.string(),
  }),
]);
/** Which content types each role may carry (the API refuses the others). */
const CONTENT_FOR_ROLE: Record<string, string[]> = {
  user: ["input_text", "input_audio"],
  system: ["input_text"],
  assistant: ["output_text", "output_audio"],
};

interface Item {
  id: string;
  role: "user" | "assistant" | "system" | "tool";
  /** assistant audio produced so far (μ-law bytes) */
  audioBytes: number;
  transcript: string;
}

interface Response {
  id: string;
  itemId: string;
  cancelled: boolean;
}

let counter = 0;
const newId = (prefix: string) => `${prefix}_fake${(++counter).toString(36).padStart(6, "0")}`;

export async function realtimeUpgrade(ctx: UpgradeContext, script: RealtimeScript): Promise<void> {
  const { req } = ctx;
  if (!/^Bearer \S+$/.test(req.headers.authorization ?? "")) {
    return ctx.refuse(401, apiError("You didn't provide an API key.", "invalid_api_key"));
  }
  if (req.headers["openai-beta"]) {
    return ctx.refuse(
      400,
      apiError("This fake speaks the GA Realtime interface only (no OpenAI-Beta header)."),
    );
  }
  const model = req.query.model ?? "";
  if (!MODELS.test(model)) {
    return ctx.refuse(
      404,
      apiError(`The model '${model}' does not exist or you do not have access to it.`, "model_not_found"),
    );
  }
  const ws = await ctx.accept();
  script.openSockets += 1;
  ws.on("close", () => {
    script.openSockets -= 1;
  });
  new RealtimeSession(ws, model, script, (body) => ctx.record(REALTIME_PATH, body)).start();
}

class RealtimeSession {
  private readonly ws: WebSocket;
  private readonly script: RealtimeScript;
  private readonly record: (body: string) => void;
  private session: Session & { id: string; object: string };
  private readonly items = new Map<string, Item>();
  private lastItemId: string | null = null;
  private response: Response | null = null;
  private audioProduced = false;
  private responsesDone = 0;
  /** caller audio received, in ms */
  private inputMs = 0;
  private speech: { itemId: string; startMs: number; silentMs: number } | null = null;
  private lastUserTranscript = "";
  /** function calls made and not yet answered with a function_call_output item */
  private readonly calls = new Set<string>();

  constructor(ws: WebSocket, model: string, script: RealtimeScript, record: (body: string) => void) {
    this.ws = ws;
    this.script = script;
    this.record = record;
    this.session = {
      id: newId("sess"),
      object: "realtime.session",
      type: "realtime",
      model,
      instructions: "You are a helpful assistant.",
      output_modalities: ["audio"],
      audio: {
        input: {
          format: { type: "audio/pcm", rate: 24000 },
          transcription: null,
          turn_detection: {
            type: "server_vad",
            threshold: 0.5,
            prefix_padding_ms: 300,
            silence_duration_ms: 200,
            create_response: true,
            interrupt_response: true,
          },
        },
        output: { format: { type: "audio/pcm", rate: 24000 }, voice: "alloy", speed: 1 },
      },
      max_output_tokens: "inf",
      tools: [],
      tool_choice: "auto",
    };
  }

  start(): void {
    this.ws.on("message", (data) => this.receive(data.toString()));
    this.send({ type: "session.created", session: this.session });
  }

  private send(event: Record<string, unknown>) {
    if (this.ws.readyState === this.ws.OPEN)
      this.ws.send(JSON.stringify({ event_id: newId("event"), ...event }));
  }

  private error(message: string, code: string, param: string | null, eventId: unknown) {
    this.send({
      type: "error",
      error: {
        type: "invalid_request_error",
        code,
        message,
        param,
        event_id: typeof eventId === "string" ? eventId : null,
      },
    });
  }

  private receive(text: string) {
    this.record(text);
    let event: Record<string, unknown>;
    try {
      const parsed = JSON.parse(text) as unknown;
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
        throw new Error("not an object");
      event = parsed as Record<string, unknown>;
    } catch (err) {
      return this.error(
        `We could not parse the JSON body of your request. (${String(err)})`,
        "invalid_json",
        null,
        null,
      );
    }
    const type = event.type;
    if (!(CLIENT_EVENTS as readonly unknown[]).includes(type)) {
      return this.error(
        `Invalid value: '${String(type)}'. Supported values are: ${CLIENT_EVENTS.map((t) => `'${t}'`).join(", ")}.`,
        "invalid_value",
        "type",
        event.event_id,
      );
    }
    switch (type) {
      case "session.update":
        return this.update(event);
      case "input_audio_buffer.append":
        return this.append(event);
      case "response.create":
        return this.createResponse(event);
      case "response.cancel":
        return this.cancel(event);
      case "conversation.item.truncate":
        return this.truncate(event);
      case "conversation.item.create":
        return this.createItem(event);
      case "output_audio_buffer.clear":
        return this.error(
          "output_audio_buffer.clear is only supported for WebRTC connections.",
          "invalid_value",
          "type",
          event.event_id,
        );
      case "input_audio_buffer.clear":
        this.speech = null;
        return this.send({ type: "input_audio_buffer.cleared" });
      default:
        return;
    }
  }

  private update(event: Record<string, unknown>) {
    const parsed = SessionSchema.safeParse(event.session);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const keys = issue && "keys" in issue ? (issue.keys as string[]) : [];
      const path = ["session", ...(issue?.path ?? []).map(String), ...keys.slice(0, 1)].join(".");
      const unknown = issue?.code === "unrecognized_keys";
      return this.error(
        unknown ? `Unknown parameter: '${path}'.` : `Invalid value for '${path}': ${issue?.message}`,
        unknown ? "unknown_parameter" : "invalid_value",
        path,
        event.event_id,
      );
    }
    const next = parsed.data;
    const voice = next.audio?.output?.voice;
    if (voice && this.audioProduced && voice !== this.session.audio?.output?.voice) {
      return this.error(
        "Cannot update a conversation's voice if assistant audio is present.",
        "cannot_update_voice",
        "session.audio.output.voice",
        event.event_id,
      );
    }
    this.session = {
      ...this.session,
      ...next,
      audio: {
        input: { ...this.session.audio?.input, ...next.audio?.input },
        output: { ...this.session.audio?.output, ...next.audio?.output },
      },
    };
    this.send({ type: "session.updated", session: this.session });
  }

  private turnDetection() {
    const td = this.session.audio?.input?.turn_detection;
    return td?.type === "server_vad" ? td : null;
  }

  private append(event: Record<string, unknown>) {
    const audio = typeof event.audio === "string" ? Buffer.from(event.audio, "base64") : null;
    if (!audio || audio.length === 0) {
      return this.error(
        "Invalid 'audio'. Expected base64-encoded audio bytes.",
        "invalid_value",
        "audio",
        event.event_id,
      );
    }
    const vad = this.turnDetection();
    for (let at = 0; at < audio.length; at += FRAME_BYTES) {
      const frame = audio.subarray(at, at + FRAME_BYTES);
      this.inputMs += frame.length / BYTES_PER_MS;
      if (vad) this.detect(frame, vad);
    }
  }

  private detect(frame: Buffer, vad: z.output<typeof ServerVad>) {
    let sum = 0;
    for (const byte of frame) sum += Math.abs(decodeSample(byte));
    const voiced = sum / frame.length > VAD_LEVEL;
    const frameMs = frame.length / BYTES_PER_MS;
    if (!this.speech) {
      if (!voiced) return;
      const itemId = newId("item");
      this.speech = { itemId, startMs: this.inputMs - frameMs, silentMs: 0 };
      this.send({
        type: "input_audio_buffer.speech_started",
        audio_start_ms: Math.max(0, Math.round(this.speech.startMs - (vad.prefix_padding_ms ?? 300))),
        item_id: itemId,
      });
      if (this.response && !this.response.cancelled && (vad.interrupt_response ?? true)) {
        this.finishResponse(this.response, "cancelled");
      }
      return;
    }
    this.speech.silentMs = voiced ? 0 : this.speech.silentMs + frameMs;
    if (this.speech.silentMs >= (vad.silence_duration_ms ?? 500)) {
      const { itemId } = this.speech;
      this.speech = null;
      void this.utterance(itemId, Math.round(this.inputMs - (vad.silence_duration_ms ?? 500)), vad);
    }
  }

  private async utterance(
    itemId: string,
    audioEndMs: number,
    vad: z.output<typeof ServerVad>,
  ): Promise<void> {
    this.send({ type: "input_audio_buffer.speech_stopped", audio_end_ms: audioEndMs, item_id: itemId });
    // When it left, on this process's performance clock (bench:voice measures from it).
    const turn: RealtimeScript["turns"][number] = { speech_stopped_at: performance.now() };
    this.script.turns.push(turn);
    this.send({ type: "input_audio_buffer.committed", item_id: itemId, previous_item_id: this.lastItemId });
    const item = {
      id: itemId,
      type: "message",
      role: "user",
      status: "completed",
      content: [{ type: "input_audio", transcript: null }],
    };
    this.items.set(itemId, { id: itemId, role: "user", audioBytes: 0, transcript: "" });
    this.lastItemId = itemId;
    this.send({ type: "conversation.item.added", previous_item_id: null, item });
    this.send({ type: "conversation.item.done", previous_item_id: null, item });
    if (vad.create_response ?? true) {
      if (this.response && !this.response.cancelled) {
        this.error(
          "Conversation already has an active response in progress.",
          "conversation_already_has_active_response",
          null,
          null,
        );
      } else {
        void this.respond(null, turn);
      }
    }
    if (this.session.audio?.input?.transcription) {
      const transcript = this.script.transcripts.shift() ?? DEFAULT_TRANSCRIPT;
      this.lastUserTranscript = transcript;
      await sleep(5);
      this.send({
        type: "conversation.item.input_audio_transcription.completed",
        item_id: itemId,
        content_index: 0,
        transcript,
        usage: { type: "duration", seconds: 1 },
      });
    }
  }

  private createResponse(event: Record<string, unknown>) {
    if (this.response && !this.response.cancelled) {
      return this.error(
        "Conversation already has an active response in progress.",
        "conversation_already_has_active_response",
        null,
        event.event_id,
      );
    }
    const options = (event.response ?? {}) as { instructions?: unknown };
    void this.respond(typeof options.instructions === "string" ? options.instructions : null);
  }

  /** One assistant response: audio deltas and their transcript, then response.done. `turn`: the utterance it answers. */
  private async respond(instructions: string | null, turn?: RealtimeScript["turns"][number]): Promise<void> {
    const quoted = instructions ? /"([^"]+)"/.exec(instructions)?.[1] : undefined;
    const toolCall = this.script.realtime.toolCall;
    if (!quoted && toolCall && this.session.tools?.some((t) => t.name === toolCall.name)) {
      this.script.realtime.toolCall = undefined;
      return this.callFunction(toolCall);
    }
    const scripted = quoted === undefined ? this.script.replies.shift() : undefined;
    const text =
      quoted ??
      (typeof scripted === "string" ? scripted : scripted?.content) ??
      `You said: ${this.lastUserTranscript.replace(/[\s.!?]+$/, "")}. We are open nine to five.`;
    const response: Response = { id: newId("resp"), itemId: newId("item"), cancelled: false };
    this.response = response;
    this.send({
      type: "response.created",
      response: { id: response.id, object: "realtime.response", status: "in_progress", output: [] },
    });
    const item = {
      id: response.itemId,
      type: "message",
      role: "assistant",
      status: "in_progress",
      content: [],
    };
    this.items.set(response.itemId, {
      id: response.itemId,
      role: "assistant",
      audioBytes: 0,
      transcript: "",
    });
    this.lastItemId = response.itemId;
    this.send({ type: "response.output_item.added", response_id: response.id, output_index: 0, item });
    this.send({ type: "conversation.item.added", previous_item_id: null, item });
    const where = { response_id: response.id, item_id: response.itemId, output_index: 0, content_index: 0 };
    this.send({ type: "response.content_part.added", ...where, part: { type: "audio", transcript: "" } });
    await sleep(this.script.realtime.firstAudioDelayMs ?? 0);
    const audio = mulawTone(text.length * MS_PER_CHARACTER);
    const words = text.match(/\s*\S+/g) ?? [];
    const stored = this.items.get(response.itemId);
    for (let at = 0, word = 0; at < audio.length; at += DELTA_BYTES) {
      if (response.cancelled || this.ws.readyState !== this.ws.OPEN) return;
      const delta = audio.subarray(at, at + DELTA_BYTES);
      this.audioProduced = true;
      if (stored) stored.audioBytes += delta.length;
      this.send({ type: "response.output_audio.delta", ...where, delta: delta.toString("base64") });
      if (turn) turn.first_audio_at ??= performance.now();
      const upTo = Math.ceil((words.length * (at + delta.length)) / audio.length);
      for (; word < upTo; word++)
        this.send({ type: "response.output_audio_transcript.delta", ...where, delta: words[word] });
      await sleep(this.script.realtime.deltaIntervalMs ?? 1);
    }
    if (response.cancelled) return;
    if (stored) stored.transcript = text;
    this.send({ type: "response.output_audio.done", ...where });
    this.send({ type: "response.output_audio_transcript.done", ...where, transcript: text });
    this.finishResponse(response, "completed");
  }

  /** A response whose output is one function call; the client answers with its output item. */
  private callFunction(call: { name: string; arguments: string }) {
    const response: Response = { id: newId("resp"), itemId: newId("item"), cancelled: false };
    const callId = newId("call");
    this.calls.add(callId);
    const item = {
      id: response.itemId,
      type: "function_call",
      status: "completed",
      call_id: callId,
      name: call.name,
      arguments: call.arguments,
    };
    this.send({
      type: "response.created",
      response: { id: response.id, object: "realtime.response", status: "in_progress", output: [] },
    });
    this.send({
      type: "response.output_item.added",
      response_id: response.id,
      output_index: 0,
      item: { ...item, status: "in_progress", arguments: "" },
    });
    this.send({
      type: "response.function_call_arguments.done",
      response_id: response.id,
      item_id: response.itemId,
      output_index: 0,
      call_id: callId,
      name: call.name,
      arguments: call.arguments,
    });
    this.send({ type: "response.output_item.done", response_id: response.id, output_index: 0, item });
    this.send({
      type: "response.done",
      response: { id: response.id, object: "realtime.response", status: "completed", output: [item] },
    });
    this.responsesDone += 1;
  }

  private finishResponse(response: Response, status: "completed" | "cancelled") {
    response.cancelled = status === "cancelled";
    if (this.response === response) this.response = null;
    const item = this.items.get(response.itemId);
    this.send({
      type: "response.done",
      response: {
        id: response.id,
        object: "realtime.response",
        status,
        ...(status === "cancelled" && { status_details: { type: "cancelled", reason: "turn_detected" } }),
        output: [
          {
            id: response.itemId,
            type: "message",
            role: "assistant",
            status: status === "completed" ? "completed" : "incomplete",
            content: [{ type: "output_audio", transcript: item?.transcript ?? "" }],
          },
        ],
      },
    });
    this.responsesDone += 1;
    if (
      this.script.realtime.dropAfterResponses !== undefined &&
      this.responsesDone >= this.script.realtime.dropAfterResponses
    ) {
      // A moment later, as a real drop would come: the events already sent arrive first.
      setTimeout(() => this.ws.close(1011, "server error"), 100);
    }
  }

  private cancel(event: Record<string, unknown>) {
    if (!this.response || this.response.cancelled) {
      return this.error(
        "Cancellation failed: no active response found.",
        "response_cancel_not_active",
        null,
        event.event_id,
      );
    }
    this.finishResponse(this.response, "cancelled");
  }

  private truncate(event: Record<string, unknown>) {
    const item = typeof event.item_id === "string" ? this.items.get(event.item_id) : undefined;
    if (!item) {
      return this.error(
        `Item with item_id not found: ${String(event.item_id)}`,
        "item_not_found",
        "item_id",
        event.event_id,
      );
    }
    if (item.role !== "assistant") {
      return this.error(
        "Only assistant messages can be truncated.",
        "invalid_value",
        "item_id",
        event.event_id,
      );
    }
    if (event.content_index !== 0) {
      return this.error(
        "Invalid 'content_index': the item has one content part.",
        "invalid_value",
        "content_index",
        event.event_id,
      );
    }
    const audioMs = item.audioBytes / BYTES_PER_MS;
    const end = event.audio_end_ms;
    if (typeof end !== "number" || !Number.isInteger(end) || end < 0 || end > audioMs) {
      return this.error(
        `Invalid 'audio_end_ms': ${String(end)} is past the item's audio (${audioMs} ms).`,
        "invalid_value",
        "audio_end_ms",
        event.event_id,
      );
    }
    this.send({ type: "conversation.item.truncated", item_id: item.id, content_index: 0, audio_end_ms: end });
  }

  private createItem(event: Record<string, unknown>) {
    const parsed = ItemSchema.safeParse(event.item);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return this.error(
        `Invalid 'item': ${issue?.message}`,
        "invalid_value",
        ["item", ...(issue?.path ?? [])].join("."),
        event.event_id,
      );
    }
    const item = parsed.data;
    if (item.type === "message" && item.content.some((c) => !CONTENT_FOR_ROLE[item.role]?.includes(c.type))) {
      return this.error(
        `Invalid 'item.content': a ${item.role} message takes ${CONTENT_FOR_ROLE[item.role]?.join(" or ")}.`,
        "invalid_value",
        "item.content",
        event.event_id,
      );
    }
    if (item.type === "function_call_output" && !this.calls.delete(item.call_id)) {
      return this.error(
        `No function call with call_id '${item.call_id}' is awaiting output.`,
        "invalid_value",
        "item.call_id",
        event.event_id,
      );
    }
    const id = item.id ?? newId("item");
    this.items.set(id, {
      id,
      role: item.type === "message" ? item.role : "tool",
      audioBytes: 0,
      transcript: item.type === "message" ? (item.content[0]?.text ?? "") : item.output,
    });
    const previous = this.lastItemId;
    this.lastItemId = id;
    this.send({ type: "conversation.item.added", previous_item_id: previous, item: { ...item, id } });
    this.send({ type: "conversation.item.done", previous_item_id: previous, item: { ...item, id } });
  }
}

/** A quiet 440 Hz tone as 8 kHz μ-law. */
function mulawTone(durationMs: number): Buffer {
  const samples = Math.round(durationMs * BYTES_PER_MS);
  const out = Buffer.alloc(samples);
  for (let i = 0; i < samples; i++)
    out[i] = encodeSample(Math.round(1000 * Math.sin((2 * Math.PI * 440 * i) / 8000)));
  return out;
}

function apiError(message: string, code: string | null = null) {
  return { error: { message, type: "invalid_request_error", param: null, code } };
}
