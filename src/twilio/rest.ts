import type { Settings } from "../env.ts";
import { AppError } from "../errors.ts";
import { type Logger, log } from "../log.ts";

/**
 * The few Twilio REST calls the app makes, over fetch (runs on Workers). Every request carries
 * HTTP basic auth and goes to `baseUrl` (https://api.twilio.com in production, a fake in tests);
 * failures become TwilioError, and "the call has already ended" is an explicit result.
 */

export interface TwilioRestOptions {
  baseUrl: string;
  /**
   * The account every request is made for (AC...). Empty means unknown: every request then
   * fails as `misconfigured` without reaching Twilio (see `restAccountSid`).
   */
  accountSid: string;
  authToken: string;
  /** Per request, including reading the body. */
  timeoutMs?: number;
}

/** `misconfigured`: no account to call the API for; nothing was sent. */
export type TwilioErrorKind = "http" | "timeout" | "network" | "bad_response" | "misconfigured";

export class TwilioError extends Error {
  readonly kind: TwilioErrorKind;
  /** The HTTP status, when Twilio answered. */
  readonly status?: number;
  /** Twilio's error code from its JSON error body (https://www.twilio.com/docs/errors/<code>). */
  readonly code?: number;
  readonly twilioMessage?: string;

  constructor(
    kind: TwilioErrorKind,
    message: string,
    details: { status?: number; code?: number; twilioMessage?: string } = {},
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
    this.name = "TwilioError";
    this.kind = kind;
    if (details.status !== undefined) this.status = details.status;
    if (details.code !== undefined) this.code = details.code;
    if (details.twilioMessage !== undefined) this.twilioMessage = details.twilioMessage;
  }
}

/** Twilio's answer when a call it is asked to change has already ended. */
export type CallNotInProgress = { ok: false; reason: "call_not_in_progress" };
export type CallUpdateResult = { ok: true; call: { sid: string; status: string } } | CallNotInProgress;
export type StartRecordingResult =
  | { ok: true; recording: { sid: string; status: string } }
  | CallNotInProgress;

export interface Recording {
  bytes: Uint8Array;
  contentType: string;
}

const CALL_NOT_IN_PROGRESS = 21220;
const DEFAULT_TIMEOUT_MS = 10_000;
const RETRY_FIRST_DELAY_MS = 200;
const RETRY_MAX_DELAY_MS = 1_000;
const RECORDING_PATH =
  /^\/2010-04-01\/Accounts\/AC[0-9a-zA-Z]+\/Recordings\/RE[0-9a-zA-Z]+(?:\.(?:wav|mp3|json))?$/;

interface Reply {
  status: number;
  contentType: string;
  body: Uint8Array;
}

const decoder = new TextDecoder();

type Parsed = { ok: true; value: Record<string, unknown> } | { ok: false; error: Error };

function parseJson(body: Uint8Array): Parsed {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(body));
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err : new Error(String(err)) };
  }
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? { ok: true, value: value as Record<string, unknown> }
    : { ok: false, error: new Error("the body is JSON but not an object") };
}

/** Twilio's JSON error body is {code, message, more_info, status}; a proxy's may be anything. */
function errorFromReply(operation: string, reply: Reply): TwilioError {
  const parsed = parseJson(reply.body);
  const body = parsed.ok ? parsed.value : {};
  const code = typeof body.code === "number" ? body.code : undefined;
  const twilioMessage = typeof body.message === "string" ? body.message : undefined;
  const said =
    code !== undefined || twilioMessage !== undefined
      ? `Twilio error ${code ?? "?"}: ${twilioMessage ?? "no message"}`
      : decoder.decode(reply.body.subarray(0, 200)) || "empty body";
  return new TwilioError(
    "http",
    `Twilio ${operation} failed with HTTP ${reply.status} (${said})`,
    {
      status: reply.status,
      ...(code !== undefined && { code }),
      ...(twilioMessage !== undefined && { twilioMessage }),
    },
    { cause: parsed.ok ? undefined : parsed.error },
  );
}

function resource(operation: string, reply: Reply): { sid: string; status: string } {
  const parsed = parseJson(reply.body);
  const sid = parsed.ok ? parsed.value.sid : undefined;
  const status = parsed.ok ? parsed.value.status : undefined;
  if (typeof sid !== "string" || typeof status !== "string") {
    throw new TwilioError(
      "bad_response",
      `Twilio ${operation} answered HTTP ${reply.status} without a resource's sid and status`,
      { status: reply.status },
      { cause: parsed.ok ? undefined : parsed.error },
    );
  }
  return { sid, status };
}

/**
 * The account a call's REST requests are made for: TWILIO_ACCOUNT_SID when set, else the
 * AccountSid of the call's own signed webhook (the account that owns the number and the call).
 * Empty when neither is known; TwilioRest then refuses to send anything.
 */
export function restAccountSid(setting: string | undefined, fromWebhook: string | undefined): string {
  return setting ?? fromWebhook ?? "";
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class TwilioRest {
  private readonly baseUrl: string;
  private readonly accountSid: string;
  private readonly authorization: string;
  private readonly timeoutMs: number;

  constructor(options: TwilioRestOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.accountSid = options.accountSid;
    this.authorization = `Basic ${btoa(`${options.accountSid}:${options.authToken}`)}`;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  private async request(operation: string, path: string, form?: URLSearchParams): Promise<Reply> {
    // An empty account would be /Accounts//Calls/...: a 404 at best, and credentials sent for nothing.
    if (!this.accountSid) {
      throw new TwilioError(
        "misconfigured",
        `Twilio ${operation} not sent: no account SID (set TWILIO_ACCOUNT_SID, or it comes from the call's signed webhook)`,
      );
    }
    try {
      const response = await fetch(`${this.baseUrl}${path}`, {
        method: form ? "POST" : "GET",
        headers: {
          authorization: this.authorization,
          accept: "application/json",
          ...(form && { "content-type": "application/x-www-form-urlencoded" }),
        },
        ...(form && { body: form.toString() }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      return {
        status: response.status,
        contentType: response.headers.get("content-type") ?? "",
        body: new Uint8Array(await response.arrayBuffer()),
      };
    } catch (err) {
      if (err instanceof Error && err.name === "TimeoutError") {
        throw new TwilioError(
          "timeout",
          `Twilio ${operation} timed out after ${this.timeoutMs} ms`,
          {},
          { cause: err },
        );
      }
      throw new TwilioError(
        "network",
        `Twilio ${operation} could not reach ${this.baseUrl}`,
        {},
        { cause: err },
      );
    }
  }

  private callPath(callSid: string, suffix: string): string {
    return `/2010-04-01/Accounts/${encodeURIComponent(this.accountSid)}/Calls/${encodeURIComponent(callSid)}${suffix}`;
  }

  private async mutateCall(
    operation: string,
    path: string,
    form: URLSearchParams,
  ): Promise<{ ok: true; resource: { sid: string; status: string } } | CallNotInProgress> {
    const reply = await this.request(operation, path, form);
    if (reply.status >= 200 && reply.status < 300) return { ok: true, resource: resource(operation, reply) };
    const error = errorFromReply(operation, reply);
    // 404: Twilio no longer has the call (ended and gone); either way there is nothing to change.
    if (error.code === CALL_NOT_IN_PROGRESS || reply.status === 404) {
      return { ok: false, reason: "call_not_in_progress" };
    }
    throw error;
  }

  /**
   * Downloads a recording. `recordingUrl` is Twilio's RecordingUrl; it is re-rooted at baseUrl so
   * credentials only ever go there. Twilio may send the <Record action> callback before the file
   * is ready, so a 404 is retried with a growing pause until `retryUntil` (epoch ms). Each retry
   * is logged through `options.log` (the call's logger, so the line carries its call_sid).
   */
  async fetchRecording(
    recordingUrl: string,
    options: { format: "wav"; retryUntil: number; log?: Logger },
  ): Promise<Recording> {
    const path = URL.canParse(recordingUrl) ? new URL(recordingUrl).pathname : "";
    if (!RECORDING_PATH.test(path)) {
      throw new AppError("VALIDATION_ERROR", "RecordingUrl is not a Twilio recording URL", {
        details: [
          {
            field: "RecordingUrl",
            rule: "twilio_recording",
            message: `not a Twilio recording URL: ${recordingUrl}`,
          },
        ],
      });
    }
    const filePath = `${path.replace(/\.[a-z0-9]+$/i, "")}.${options.format}`;
    for (let attempt = 1; ; attempt++) {
      const reply = await this.request("recording download", filePath);
      if (reply.status >= 200 && reply.status < 300) {
        if (decoder.decode(reply.body.subarray(0, 4)) !== "RIFF") {
          throw new TwilioError(
            "bad_response",
            `Twilio recording download returned no WAV file (${reply.contentType})`,
            {
              status: reply.status,
            },
          );
        }
        return { bytes: reply.body, contentType: reply.contentType || "audio/x-wav" };
      }
      const delay = Math.min(RETRY_FIRST_DELAY_MS * 2 ** (attempt - 1), RETRY_MAX_DELAY_MS);
      if (reply.status !== 404 || Date.now() + delay >= options.retryUntil) {
        throw errorFromReply("recording download", reply);
      }
      (options.log ?? log).info("twilio_recording_not_ready", {
        path: filePath,
        attempt,
        retry_in_ms: delay,
      });
      await sleep(delay);
    }
  }

  /** Replaces what the call is doing with `twiml`, or ends it with status "completed". */
  async updateCall(
    callSid: string,
    update: { twiml?: string; status?: "completed" },
  ): Promise<CallUpdateResult> {
    const form = new URLSearchParams();
    if (update.twiml !== undefined) form.set("Twiml", update.twiml);
    if (update.status !== undefined) form.set("Status", update.status);
    const result = await this.mutateCall("call update", this.callPath(callSid, ".json"), form);
    return result.ok ? { ok: true, call: result.resource } : result;
  }

  async hangup(callSid: string): Promise<CallUpdateResult> {
    return this.updateCall(callSid, { status: "completed" });
  }

  /** Starts recording a live call; Twilio calls `statusCallback` as the recording progresses. */
  async startRecording(
    callSid: string,
    options: { channels?: "mono" | "dual"; statusCallback?: string } = {},
  ): Promise<StartRecordingResult> {
    const form = new URLSearchParams();
    if (options.channels) form.set("RecordingChannels", options.channels);
    if (options.statusCallback) form.set("RecordingStatusCallback", options.statusCallback);
    const result = await this.mutateCall("start recording", this.callPath(callSid, "/Recordings.json"), form);
    return result.ok ? { ok: true, recording: result.resource } : result;
  }
}

/**
 * Twilio's REST API as the Worker's settings configure it, for the account of a call whose
 * webhook named `accountSid` (used when TWILIO_ACCOUNT_SID is not set; see restAccountSid).
 */
export function twilioRestFor(
  settings: Pick<Settings, "TWILIO_API_BASE_URL" | "TWILIO_ACCOUNT_SID" | "TWILIO_AUTH_TOKEN">,
  accountSid: string | undefined,
): TwilioRest {
  return new TwilioRest({
    baseUrl: settings.TWILIO_API_BASE_URL,
    accountSid: restAccountSid(settings.TWILIO_ACCOUNT_SID, accountSid),
    authToken: settings.TWILIO_AUTH_TOKEN ?? "",
  });
}
