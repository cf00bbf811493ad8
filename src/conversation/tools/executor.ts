import { Validator } from "@cfworker/json-schema";
import {
  DEFAULT_ANNOUNCEMENT,
  type ToolConfig,
  type TransferTargetConfig,
  type TransferToolConfig,
  toolName,
  WEBHOOK_TIMEOUT_DEFAULT_MS,
  type WebhookToolConfig,
} from "../../config/tools.ts";
import { errorFields, type Logger, log } from "../../log.ts";
import type { ToolCall, ToolDefinition } from "../../providers/types.ts";
import { toolDefinitions } from "./definitions.ts";
import { redactSecrets } from "./redact.ts";
import { SIGNATURE_HEADER, signatureHeader } from "./signing.ts";

/**
 * Runs the tool calls a model asks for, whatever the conversation mode: checks the arguments,
 * calls the owner's webhook (signed, bounded in time and size), and turns transfer and end_call
 * into typed intents the engine carries out. Every failure is a short error result for the
 * model, never an exception: the call goes on.
 */

/** The largest owner answer passed to the model, bytes. */
export const MAX_RESULT_BYTES = 16 * 1024;
/** The longest argument text kept in the call log when it is not JSON, characters. */
const MAX_LOGGED_RAW_ARGUMENTS = 500;

/** Who the call is, as the owner's webhook receives it. */
export interface ToolCallContext {
  call_sid: string;
  from: string;
  to: string;
  /** the number whose configuration answered (E.164) */
  phone_number: string;
  /** the routing variant that answered, where routing rules exist */
  variant?: string;
}

export type ToolStatus = "ok" | "invalid_arguments" | "unknown_tool" | "http_error" | "timeout" | "error";

/**
 * Arguments as the call log stores them: an object parsed from the model's JSON, or its raw
 * text. Spelled out shallowly so the type crosses Durable Object RPC and Hono's JSON typing.
 */
export type LoggedArguments = Record<string, string | number | boolean | null | object> | string;

/** One tool call as the call log keeps it. */
export interface ToolCallRecord {
  name: string;
  /** the model's arguments with secret-like fields redacted (the raw text, cut short, if not JSON) */
  arguments: LoggedArguments;
  status: ToolStatus;
  /** for anything but ok: what went wrong, as the model was told */
  error?: string;
  latency_ms: number;
  /** bytes of the result given to the model */
  result_bytes: number;
  /** transfers: the chosen target */
  target?: { name: string; to: string };
  /**
   * transfers: how the <Dial> ended (Twilio's DialCallStatus), once known; `failed` also when
   * Twilio refused to move the live call to the <Dial>, so none was placed
   */
  dial_outcome?: string;
}

/** What the engine must do after the model's words have been spoken. */
export type ToolIntent =
  | { kind: "transfer"; target: TransferTargetConfig; announcement: string }
  | { kind: "end_call" };

export interface ToolExecution {
  call: ToolCall;
  /** the `tool` message content for the model: JSON text */
  content: string;
  record: ToolCallRecord;
  intent: ToolIntent | null;
}

export interface ToolRunnerOptions {
  context: ToolCallContext;
  /** TOOL_SIGNING_SECRET; without it webhooks are not called (the model is told so) */
  signingSecret: string | undefined;
  /** ENVIRONMENT: plain http owner URLs are called in development only */
  environment: "development" | "production";
  fetch?: typeof fetch;
  now?: () => number;
  /** the call's logger (default: the unbound one) */
  log?: Logger;
}

class ToolFailure extends Error {
  readonly status: ToolStatus;

  constructor(status: ToolStatus, message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = "ToolFailure";
    this.status = status;
  }
}

export class ToolRunner {
  /** the definitions to offer the model (empty: the number has no tools) */
  readonly definitions: ToolDefinition[];
  private readonly tools: Map<string, ToolConfig>;
  private readonly options: ToolRunnerOptions;
  private readonly fetch: typeof fetch;
  private readonly now: () => number;

  constructor(tools: readonly ToolConfig[], options: ToolRunnerOptions) {
    this.tools = new Map(tools.map((t) => [toolName(t), t]));
    this.definitions = toolDefinitions(tools);
    this.options = options;
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.now = options.now ?? Date.now;
  }

  get hasTools(): boolean {
    return this.tools.size > 0;
  }

  /**
   * Runs one tool call. `signal` is the call's own (hang-up): a barge-in does not cancel a
   * request already sent to the owner. Never rejects.
   */
  async execute(call: ToolCall, signal?: AbortSignal): Promise<ToolExecution> {
    const started = this.now();
    const parsed = parseArguments(call.arguments);
    const record: ToolCallRecord = {
      name: call.name,
      arguments: parsed.ok
        ? (redactSecrets(parsed.value) as LoggedArguments)
        : call.arguments.slice(0, MAX_LOGGED_RAW_ARGUMENTS),
      status: "ok",
      latency_ms: 0,
      result_bytes: 0,
    };
    let content: string;
    let intent: ToolIntent | null = null;
    try {
      const tool = this.tools.get(call.name);
      if (!tool) throw new ToolFailure("unknown_tool", `there is no tool named "${call.name}"`);
      if (!parsed.ok) throw new ToolFailure("invalid_arguments", "the arguments are not a JSON object");
      if (tool.type === "transfer") {
        const target = chooseTarget(tool, parsed.value);
        record.target = { name: target.name, to: target.to };
        intent = { kind: "transfer", target, announcement: tool.announcement ?? DEFAULT_ANNOUNCEMENT };
        content = JSON.stringify({ status: "transferring", target: target.name });
      } else if (tool.type === "end_call") {
        intent = { kind: "end_call" };
        content = JSON.stringify({ status: "ending_call" });
      } else {
        this.checkArguments(tool, parsed.value);
        content = await this.callWebhook(tool, parsed.value, signal);
      }
    } catch (err) {
      const failure =
        err instanceof ToolFailure ? err : new ToolFailure("error", "the tool failed", { cause: err });
      record.status = failure.status;
      record.error = failure.message;
      content = JSON.stringify({ error: failure.message });
      if (failure.status === "error" || failure.status === "http_error" || failure.status === "timeout") {
        (this.options.log ?? log).warn("tool_call_failed", {
          tool: call.name,
          status: failure.status,
          ...errorFields(failure),
        });
      }
    }
    record.latency_ms = Math.max(0, this.now() - started);
    record.result_bytes = new TextEncoder().encode(content).byteLength;
    // No info line here: a log line between the tool's answer and the model's next request
    // cost ~8 ms of that round on local workerd (bench/tools.ts). The turn's own line carries
    // the calls (toolLogFields); failures above are logged as they happen.
    return { call, content, record, intent };
  }

  private checkArguments(tool: WebhookToolConfig, args: Record<string, unknown>): void {
    const result = validatorFor(tool.parameters).validate(args);
    if (result.valid) return;
    // The leaf errors say what is wrong; the enclosing "properties failed" ones add nothing.
    const leaves = result.errors.filter((e) => !/^(properties|allOf|anyOf|oneOf|\$ref)$/.test(e.keyword));
    const problems = (leaves.length > 0 ? leaves : result.errors)
      .slice(0, 3)
      .map((e) => `${e.instanceLocation.replace(/^#\/?/, "") || "(arguments)"}: ${e.error}`);
    throw new ToolFailure("invalid_arguments", `invalid arguments: ${problems.join("; ")}`);
  }

  private async callWebhook(
    tool: WebhookToolConfig,
    args: Record<string, unknown>,
    signal: AbortSignal | undefined,
  ): Promise<string> {
    const { signingSecret, environment, context } = this.options;
    if (!signingSecret) {
      throw new ToolFailure("error", "the tool is not available (TOOL_SIGNING_SECRET is not set)");
    }
    if (environment !== "development" && new URL(tool.url).protocol !== "https:") {
      throw new ToolFailure("error", "the tool is not available (its URL is not https)");
    }
    const body = JSON.stringify({ call: context, tool: tool.name, arguments: args });
    const timeoutMs = tool.timeout_ms ?? WEBHOOK_TIMEOUT_DEFAULT_MS;
    const timeout = AbortSignal.timeout(timeoutMs);
    let response: Response;
    try {
      response = await this.fetch(tool.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json",
          [SIGNATURE_HEADER]: await signatureHeader(signingSecret, body, this.now() / 1000),
        },
        body,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      if (!response.ok) {
        await response.body?.cancel();
        throw new ToolFailure("http_error", `the service answered HTTP ${response.status}`);
      }
      const text = await readLimited(response, MAX_RESULT_BYTES);
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        throw new ToolFailure("error", "the service did not answer JSON", { cause: err });
      }
      return JSON.stringify(value);
    } catch (err) {
      if (err instanceof ToolFailure) throw err;
      if (timeout.aborted) {
        throw new ToolFailure("timeout", `the service did not answer within ${timeoutMs} ms`, { cause: err });
      }
      if (signal?.aborted) throw new ToolFailure("error", "the call ended before the service answered");
      throw new ToolFailure("error", "the service could not be reached", { cause: err });
    }
  }
}

/**
 * One compiled validator per `parameters` object. A call's runner is rebuilt for every turn,
 * but the call's config (and so each schema object) lives as long as the call session: the
 * schema is compiled once per call, not once per turn.
 */
const validators = new WeakMap<object, Validator>();

function validatorFor(parameters: WebhookToolConfig["parameters"]): Validator {
  let validator = validators.get(parameters);
  if (!validator) {
    validator = new Validator(parameters, "2020-12", false);
    validators.set(parameters, validator);
  }
  return validator;
}

/**
 * The tool calls of a turn as fields of the turn's log line (`turn_answered`, `stream_turn`):
 * `{tool_calls: [{name, status, latency_ms, result_bytes}]}`, or nothing when there were none.
 * Arguments stay out of logs; the call log keeps them, redacted.
 */
export function toolLogFields(records: readonly ToolCallRecord[] | undefined): {
  tool_calls?: Array<Pick<ToolCallRecord, "name" | "status" | "latency_ms" | "result_bytes">>;
} {
  if (!records || records.length === 0) return {};
  return {
    tool_calls: records.map(({ name, status, latency_ms, result_bytes }) => ({
      name,
      status,
      latency_ms,
      result_bytes,
    })),
  };
}

function parseArguments(text: string): { ok: true; value: Record<string, unknown> } | { ok: false } {
  try {
    // Some models send "" for a function without parameters.
    const value: unknown = text.trim() === "" ? {} : JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? { ok: true, value: value as Record<string, unknown> }
      : { ok: false };
  } catch {
    return { ok: false };
  }
}

function chooseTarget(tool: TransferToolConfig, args: Record<string, unknown>): TransferTargetConfig {
  const wanted = typeof args.target === "string" ? args.target.trim().toLowerCase() : "";
  const target = tool.targets.find((t) => t.name.toLowerCase() === wanted);
  if (!target) {
    const names = tool.targets.map((t) => `"${t.name}"`).join(", ");
    throw new ToolFailure("invalid_arguments", `target must be one of ${names}`);
  }
  return target;
}

/** The body as text, refusing (and cancelling) one over `limit` bytes. */
async function readLimited(response: Response, limit: number): Promise<string> {
  const declared = Number(response.headers.get("content-length") ?? "NaN");
  const tooLarge = () => new ToolFailure("error", `the service's answer is larger than ${limit / 1024} KiB`);
  if (declared > limit) {
    await response.body?.cancel();
    throw tooLarge();
  }
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}
