/**
 * What the call pipeline needs from an AI provider, and nothing more: three small interfaces
 * so a provider (or a test double) is one file. Every method takes an optional AbortSignal
 * because callers own the time budget: a caller who hangs up or barges in cancels the work.
 */

/**
 * One message of the conversation. An assistant message may ask for tool calls; each is
 * answered by a `tool` message carrying its id (OpenAI refuses a history where either is missing).
 */
export type ChatMessage =
  | { role: "system" | "user"; content: string }
  | { role: "assistant"; content: string; toolCalls?: ToolCall[] }
  | { role: "tool"; toolCallId: string; content: string };

/** A function the model may call: `parameters` is a JSON Schema object. */
export interface ToolDefinition {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

/** The model asking for one function call; `arguments` is the model's JSON text, unchecked. */
export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** A streamed reply: text as it comes, then (if the model wants them) its tool calls, whole. */
export type ChatStreamEvent = { type: "text"; text: string } | { type: "tool_calls"; calls: ToolCall[] };

export interface AudioUpload {
  data: Uint8Array;
  /** e.g. "audio/wav" */
  contentType: string;
  /** the provider infers the container from the extension, e.g. "utterance.wav" */
  filename: string;
}

/**
 * The shortest audio speech-to-text accepts, in ms: OpenAI refuses anything under 0.1 s
 * (400 `audio_too_short`). Shorter audio is silence and is never sent.
 */
export const TRANSCRIBE_MIN_AUDIO_MS = 100;

/** Called once per caller turn (record→reply mode) or detected utterance (realtime mode). */
export interface SpeechToText {
  transcribe(
    audio: AudioUpload,
    opts: { model: string; signal?: AbortSignal; prompt?: string },
  ): Promise<{ text: string }>;
}

export interface ChatRequest {
  model: string;
  /** system prompt first, then the conversation so far, oldest first */
  messages: ChatMessage[];
  /** 0..2; not sent to models that accept only their default (src/config/models.ts) */
  temperature: number;
  /** the reply's token limit, sent as max_completion_tokens or max_tokens (src/config/models.ts) */
  maxTokens: number;
  /** functions the model may call (none: the model can only answer in words) */
  tools?: ToolDefinition[];
  /** "none": the model must answer in words although `tools` are given (the tool-round limit) */
  toolChoice?: "auto" | "none";
  signal?: AbortSignal;
}

export interface ChatModel {
  /**
   * The whole reply at once: record→reply mode, where the reply is spoken by `<Play>`.
   * `toolCalls` is present when the model asked for any (`text` may then be empty).
   */
  complete(req: ChatRequest): Promise<{ text: string; toolCalls?: ToolCall[] }>;
  /** Text deltas as the model produces them: realtime mode, where speech starts before the reply ends. */
  stream(req: ChatRequest): AsyncIterable<string>;
  /** Text deltas, then the tool calls the model asked for (at most one `tool_calls` event, last). */
  streamEvents(req: ChatRequest): AsyncIterable<ChatStreamEvent>;
}

export type AudioFormat = "wav" | "mp3" | "pcm";

export interface SpeechRequest {
  text: string;
  model: string;
  voice: string;
  format: AudioFormat;
  signal?: AbortSignal;
}

/**
 * The longest text one speech request may carry, in characters: OpenAI's documented limit for
 * `input` of POST /v1/audio/speech (a longer one is refused with 400 `string_too_long`).
 * Longer text is split (src/audio/sentences.ts splitText) into several requests.
 */
export const SPEECH_INPUT_MAX_CHARS = 4096;

/** Hz of text-to-speech `pcm` output (OpenAI's speech API: 24 kHz 16-bit mono). */
export const TTS_PCM_RATE = 24_000;

export interface TextToSpeech {
  /** A whole audio file, served to Twilio for `<Play>`. */
  synthesize(req: SpeechRequest): Promise<Uint8Array>;
  /**
   * Raw 24 kHz 16-bit little-endian mono PCM as it is produced, for Media Streams. Every chunk
   * holds whole samples (an even number of bytes), so it can be resampled on its own.
   */
  synthesizeStream(req: SpeechRequest & { format: "pcm" }): AsyncIterable<Uint8Array>;
}

export type ProviderOperation = "transcribe" | "complete" | "stream" | "synthesize" | "synthesizeStream";

/**
 * - timeout: the provider did not answer within the provider's own timeout, or the caller's
 *   signal aborted with a TimeoutError (AbortSignal.timeout)
 * - aborted: the caller's signal aborted for another reason (hang-up, barge-in)
 * - http: the provider answered with an error status (`status` says which)
 * - network: the provider could not be reached
 * - bad_response: the provider answered 2xx with something unusable
 * - audio_too_short: the provider refused audio as too short to transcribe (OpenAI: under 0.1 s,
 *   400 `audio_too_short`); for a caller this is silence, not a failure
 */
export type ProviderErrorKind =
  | "timeout"
  | "aborted"
  | "http"
  | "network"
  | "bad_response"
  | "audio_too_short";

/**
 * What every provider failure becomes, so the call pipeline handles one type (as stores do
 * with StoreError). Where a failure must become an HTTP answer, `timeout` maps to the
 * PROVIDER_TIMEOUT AppError code and every other kind to PROVIDER_ERROR.
 * Messages never contain credentials.
 */
export class ProviderError extends Error {
  readonly provider: string;
  readonly operation: ProviderOperation;
  readonly kind: ProviderErrorKind;
  readonly status: number | undefined;

  constructor(
    fields: { provider: string; operation: ProviderOperation; kind: ProviderErrorKind; status?: number },
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
    this.name = "ProviderError";
    this.provider = fields.provider;
    this.operation = fields.operation;
    this.kind = fields.kind;
    this.status = fields.status;
  }
}
