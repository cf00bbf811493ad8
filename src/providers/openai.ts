import OpenAI, { toFile } from "openai";
import type { ChatCompletionMessageParam, ChatCompletionTool } from "openai/resources/chat/completions";
import { chatParameters, type TokenParamSetting } from "../config/models.ts";
import type { Settings } from "../env.ts";
import { CallFactory, PROVIDER } from "./provider-call.ts";
import {
  type AudioUpload,
  type ChatMessage,
  type ChatModel,
  type ChatRequest,
  type ChatStreamEvent,
  ProviderError,
  type ProviderOperation,
  type SpeechRequest,
  type SpeechToText,
  type TextToSpeech,
  type ToolCall,
} from "./types.ts";

/**
 * Speech-to-text, chat and text-to-speech through the official `openai` SDK (fetch-based, so it
 * runs unchanged inside workerd). The SDK never retries: the caller's silence is the budget, so
 * the only retry is one honouring a short `retry-after` (src/providers/retry-after.ts), and it
 * ends when the caller's signal does.
 */

export interface OpenAIProviderOptions {
  apiKey: string;
  /** e.g. "https://api.openai.com/v1" (settings: OPENAI_BASE_URL) */
  baseUrl: string;
  /**
   * Longest wait for the provider, per call: for a whole answer (transcribe, complete,
   * synthesize), or between two chunks of a stream (stream, synthesizeStream). Time a stream's
   * consumer spends between chunks does not count. Default DEFAULT_OPENAI_TIMEOUT_MS.
   */
  timeoutMs?: number;
  /**
   * Under which name the reply's token limit is sent (settings: OPENAI_TOKEN_PARAM; see
   * src/config/models.ts). Default "auto".
   */
  tokenParam?: TokenParamSetting;
}

export interface OpenAIProviders {
  stt: SpeechToText;
  llm: ChatModel;
  tts: TextToSpeech;
}

/** Generous on purpose: callers pass tighter budgets as signals; this only ends a hung request. */
export const DEFAULT_OPENAI_TIMEOUT_MS = 15_000;

/**
 * Every operation fails as OpenAI would answer a request without a key (401), so a Worker with
 * no OPENAI_API_KEY (the quick start's state) gets an apology path, not an exception: the SDK
 * throws "Missing credentials" on construction.
 */
function unconfigured(): OpenAIProviders {
  const fail = (operation: ProviderOperation) =>
    Promise.reject(
      new ProviderError(
        { provider: PROVIDER, operation, kind: "http", status: 401 },
        "OpenAI is not configured: OPENAI_API_KEY is not set",
      ),
    );
  return {
    stt: { transcribe: () => fail("transcribe") },
    llm: {
      complete: () => fail("complete"),
      async *stream() {
        yield await fail("stream");
      },
      async *streamEvents() {
        yield await fail("stream");
      },
    },
    tts: {
      synthesize: () => fail("synthesize"),
      async *synthesizeStream() {
        yield await fail("synthesizeStream");
      },
    },
  };
}

/** The three providers on one SDK client; with no `apiKey`, providers that each answer 401. */
export function createOpenAIProviders(options: OpenAIProviderOptions): OpenAIProviders {
  if (!options.apiKey) return unconfigured();
  const client = new OpenAI({
    apiKey: options.apiKey,
    baseURL: options.baseUrl,
    maxRetries: 0,
    // Settings come from src/env.ts only: stop the SDK reading these from process.env.
    organization: null,
    project: null,
    adminAPIKey: null,
    // Our logs are structured JSON lines (src/log.ts); failures reach them as ProviderErrors.
    logLevel: "off",
  });
  const call = new CallFactory(options.timeoutMs ?? DEFAULT_OPENAI_TIMEOUT_MS, options.apiKey);

  const stt: SpeechToText = {
    async transcribe(audio: AudioUpload, opts: { model: string; signal?: AbortSignal; prompt?: string }) {
      return call.run("transcribe", opts.signal, async (signal) => {
        const file = await toFile(audio.data, audio.filename, { type: audio.contentType });
        const result = await client.audio.transcriptions.create(
          { file, model: opts.model, ...(opts.prompt ? { prompt: opts.prompt } : {}) },
          { signal },
        );
        // The body is unchecked JSON: the SDK's types are a promise, not a guarantee.
        const text: unknown = result?.text;
        if (typeof text !== "string") throw badResponse("transcribe", "the transcription has no text");
        return { text };
      });
    },
  };

  const endpoint = { tokenParam: options.tokenParam ?? "auto", baseUrl: options.baseUrl };
  // Each model family gets only the parameters it accepts (src/config/models.ts).
  const chatBody = (req: ChatRequest) => ({
    model: req.model,
    messages: req.messages.map(wireMessage),
    ...chatParameters(req.model, { temperature: req.temperature, maxTokens: req.maxTokens }, endpoint),
    ...toolParams(req),
  });

  const llm: ChatModel = {
    async complete(req: ChatRequest) {
      return call.run("complete", req.signal, async (signal) => {
        const completion = await client.chat.completions.create(
          { ...chatBody(req), stream: false },
          { signal },
        );
        const message = completion?.choices?.[0]?.message;
        const toolCalls = completedToolCalls(message?.tool_calls);
        const text: unknown = message?.content ?? (toolCalls.length > 0 ? "" : undefined);
        if (typeof text !== "string") throw badResponse("complete", "the completion has no message content");
        return toolCalls.length > 0 ? { text, toolCalls } : { text };
      });
    },

    async *stream(req: ChatRequest) {
      for await (const event of llm.streamEvents(req)) {
        if (event.type === "text") yield event.text;
      }
    },

    async *streamEvents(req: ChatRequest): AsyncGenerator<ChatStreamEvent> {
      const wait = call.start("stream", req.signal);
      try {
        const chunks = await wait.send(() =>
          client.chat.completions.create({ ...chatBody(req), stream: true }, { signal: wait.signal }),
        );
        let finished = false;
        const calls = new StreamedToolCalls();
        for await (const chunk of chunks) {
          const choice = chunk.choices?.[0];
          if (choice?.finish_reason) finished = true;
          calls.add(choice?.delta?.tool_calls);
          const delta = choice?.delta?.content;
          if (!delta) continue;
          wait.pause();
          yield { type: "text", text: delta };
          wait.resume();
        }
        // The SDK ends an aborted SSE stream quietly, so an abort must be checked for here.
        wait.signal.throwIfAborted();
        if (!finished) throw badResponse("stream", "the stream ended before the model finished");
        const toolCalls = calls.done();
        if (toolCalls.length > 0) yield { type: "tool_calls", calls: toolCalls };
      } catch (err) {
        throw wait.failure(err);
      } finally {
        wait.end();
      }
    },
  };

  const speechBody = (req: SpeechRequest) => ({
    model: req.model,
    voice: req.voice,
    input: req.text,
    response_format: req.format,
  });

  const tts: TextToSpeech = {
    async synthesize(req: SpeechRequest) {
      return call.run("synthesize", req.signal, async (signal) => {
        const response = await client.audio.speech.create(speechBody(req), { signal });
        const audio = new Uint8Array(await response.arrayBuffer());
        if (audio.byteLength === 0) throw badResponse("synthesize", "the speech response has no audio");
        return audio;
      });
    },

    async *synthesizeStream(req: SpeechRequest & { format: "pcm" }) {
      const wait = call.start("synthesizeStream", req.signal);
      try {
        const response = await wait.send(() =>
          client.audio.speech.create(speechBody(req), { signal: wait.signal }),
        );
        if (!response.body) throw badResponse("synthesizeStream", "the speech response has no body");
        // A network chunk may end mid-sample; the odd byte waits for the next chunk.
        let carry: Uint8Array | undefined;
        let total = 0;
        for await (const received of response.body) {
          const bytes = carry ? concat(carry, received) : received;
          const whole = bytes.byteLength - (bytes.byteLength % 2);
          carry = whole < bytes.byteLength ? bytes.slice(whole) : undefined;
          if (whole === 0) continue;
          total += whole;
          wait.pause();
          yield bytes.subarray(0, whole);
          wait.resume();
        }
        wait.signal.throwIfAborted();
        // A trailing odd byte is half a sample, which no player could use: it is dropped.
        if (total === 0) throw badResponse("synthesizeStream", "the speech response has no audio");
      } catch (err) {
        throw wait.failure(err);
      } finally {
        wait.end();
      }
    },
  };

  return { stt, llm, tts };
}

/** Our provider-neutral message as Chat Completions wants it. */
function wireMessage(message: ChatMessage): ChatCompletionMessageParam {
  if (message.role === "tool") {
    return { role: "tool", tool_call_id: message.toolCallId, content: message.content };
  }
  if (message.role === "assistant" && message.toolCalls?.length) {
    return {
      role: "assistant",
      // Chat Completions takes null content beside tool calls, not "".
      content: message.content || null,
      tool_calls: message.toolCalls.map((c) => ({
        id: c.id,
        type: "function",
        function: { name: c.name, arguments: c.arguments },
      })),
    };
  }
  return { role: message.role, content: message.content };
}

/** `tools` and `tool_choice` only when there are tools: the API refuses an empty `tools` array. */
function toolParams(req: ChatRequest): { tools?: ChatCompletionTool[]; tool_choice?: "auto" | "none" } {
  if (!req.tools?.length) return {};
  return {
    tools: req.tools.map((t) => ({
      type: "function",
      function: { name: t.name, description: t.description, parameters: t.parameters },
    })),
    ...(req.toolChoice && { tool_choice: req.toolChoice }),
  };
}

/** A completion's tool calls; the SDK's types are a promise, so malformed entries are dropped. */
function completedToolCalls(raw: unknown): ToolCall[] {
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((c): ToolCall[] => {
    const fn = (c as { function?: { name?: unknown; arguments?: unknown } }).function;
    const id = (c as { id?: unknown }).id;
    return typeof id === "string" && typeof fn?.name === "string"
      ? [{ id, name: fn.name, arguments: typeof fn.arguments === "string" ? fn.arguments : "" }]
      : [];
  });
}

/** Tool calls arrive in pieces keyed by `index`: the id and name first, the arguments in fragments. */
class StreamedToolCalls {
  private readonly calls = new Map<number, ToolCall>();

  add(deltas: unknown): void {
    if (!Array.isArray(deltas)) return;
    for (const d of deltas as Array<{
      index?: number;
      id?: string;
      function?: { name?: string; arguments?: string };
    }>) {
      const index = d.index ?? 0;
      const call = this.calls.get(index) ?? { id: "", name: "", arguments: "" };
      if (d.id) call.id = d.id;
      if (d.function?.name) call.name += d.function.name;
      if (d.function?.arguments) call.arguments += d.function.arguments;
      this.calls.set(index, call);
    }
  }

  done(): ToolCall[] {
    const calls = [...this.calls.entries()].sort(([a], [b]) => a - b).map(([, c]) => c);
    if (calls.some((c) => !c.id || !c.name)) {
      throw badResponse("stream", "a streamed tool call has no id or name");
    }
    return calls;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a, 0);
  out.set(b, a.byteLength);
  return out;
}

function badResponse(operation: ProviderOperation, message: string): ProviderError {
  return new ProviderError({ provider: PROVIDER, operation, kind: "bad_response" }, `OpenAI ${message}`);
}

/** The providers as the Worker's settings configure them (OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_TOKEN_PARAM). */
export function openAIProvidersFor(
  settings: Pick<Settings, "OPENAI_API_KEY" | "OPENAI_BASE_URL" | "OPENAI_TOKEN_PARAM">,
): OpenAIProviders {
  return createOpenAIProviders({
    apiKey: settings.OPENAI_API_KEY ?? "",
    baseUrl: settings.OPENAI_BASE_URL,
    tokenParam: settings.OPENAI_TOKEN_PARAM,
  });
}
