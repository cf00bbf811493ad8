import { AppError, type ErrorDetail } from "../errors.ts";

/**
 * Twilio's form-encoded voice webhooks as typed events. Only the fields the app acts on are read;
 * Twilio adds parameters over time, and unknown ones are ignored.
 */

export const CALL_STATUSES = [
  "queued",
  "ringing",
  "in-progress",
  "completed",
  "busy",
  "failed",
  "no-answer",
  "canceled",
] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];

/** The statuses a call ends with; the call's summary takes them as its end reason. */
export const FINAL_CALL_STATUSES = ["completed", "busy", "failed", "no-answer", "canceled"] as const;
export type FinalCallStatus = (typeof FINAL_CALL_STATUSES)[number];

export const isFinalStatus = (status: CallStatus): status is FinalCallStatus =>
  (FINAL_CALL_STATUSES as readonly string[]).includes(status);

export const CALL_DIRECTIONS = ["inbound", "outbound-api", "outbound-dial"] as const;
export type CallDirection = (typeof CALL_DIRECTIONS)[number];

export interface IncomingCallEvent {
  kind: "incoming_call";
  callSid: string;
  accountSid: string;
  from: string;
  to: string;
  direction: CallDirection;
  callStatus: CallStatus;
}

/** Twilio's <Record action> callback. */
export interface RecordingEvent {
  kind: "recording";
  callSid: string;
  recordingSid?: string;
  recordingUrl: string;
  /** Seconds. */
  recordingDuration?: number;
  /** The key that ended the recording, or "hangup". */
  digits?: string;
}

export interface CallStatusEvent {
  kind: "call_status";
  callSid: string;
  callStatus: CallStatus;
  /** Seconds, sent once the call has ended. */
  callDuration?: number;
  to: string;
  from: string;
  /** Twilio's Direction (inbound when absent) */
  direction: CallDirection;
}

/** Twilio's DialCallStatus values (the <Dial action> callback). */
export const DIAL_CALL_STATUSES = [
  "completed",
  "answered",
  "busy",
  "no-answer",
  "failed",
  "canceled",
] as const;
export type DialCallStatus = (typeof DIAL_CALL_STATUSES)[number];

/** Twilio's <Dial action> callback: how the dialled leg ended. */
export interface DialEvent {
  kind: "dial";
  callSid: string;
  dialCallStatus: DialCallStatus;
  /** Seconds the dialled party was connected, when it answered. */
  dialCallDuration?: number;
}

export type VoiceWebhookEvent = IncomingCallEvent | RecordingEvent | CallStatusEvent | DialEvent;
export type VoiceWebhookKind = VoiceWebhookEvent["kind"];

type Form = URLSearchParams | Record<string, string>;

/** Reads fields and collects every problem, so one error names all that is wrong. */
class FieldReader {
  readonly problems: ErrorDetail[] = [];

  private readonly form: Form;

  constructor(form: Form) {
    this.form = form;
  }

  private raw(name: string): string | undefined {
    const value = this.form instanceof URLSearchParams ? this.form.get(name) : this.form[name];
    return value?.trim() || undefined;
  }

  optional(name: string): string | undefined {
    return this.raw(name);
  }

  required(name: string): string {
    const value = this.raw(name);
    if (value === undefined)
      this.problems.push({ field: name, rule: "required", message: `${name} is required` });
    return value ?? "";
  }

  oneOf<T extends string>(name: string, allowed: readonly T[]): T {
    const value = this.required(name);
    if (value && !allowed.includes(value as T)) {
      this.problems.push({
        field: name,
        rule: "enum",
        message: `${name} must be one of ${allowed.join(", ")}`,
      });
    }
    return value as T;
  }

  seconds(name: string): number | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    if (!/^\d+$/.test(value)) {
      this.problems.push({
        field: name,
        rule: "integer",
        message: `${name} must be a whole number of seconds`,
      });
    }
    return Number(value);
  }

  url(name: string): string {
    const value = this.required(name);
    if (value && !/^https?:\/\/[^/]+\/./i.test(value)) {
      this.problems.push({ field: name, rule: "url", message: `${name} must be an absolute http(s) URL` });
    }
    return value;
  }
}

function read(kind: VoiceWebhookKind, f: FieldReader): VoiceWebhookEvent {
  switch (kind) {
    case "incoming_call":
      return {
        kind,
        callSid: f.required("CallSid"),
        accountSid: f.required("AccountSid"),
        from: f.required("From"),
        // Voice SDK (client:) calls may come with no To at all.
        to: f.optional("To") ?? "",
        direction: f.oneOf("Direction", CALL_DIRECTIONS),
        callStatus: f.oneOf("CallStatus", CALL_STATUSES),
      };
    case "recording": {
      const recordingSid = f.optional("RecordingSid");
      const recordingDuration = f.seconds("RecordingDuration");
      const digits = f.optional("Digits");
      return {
        kind,
        callSid: f.required("CallSid"),
        recordingUrl: f.url("RecordingUrl"),
        ...(recordingSid !== undefined && { recordingSid }),
        ...(recordingDuration !== undefined && { recordingDuration }),
        ...(digits !== undefined && { digits }),
      };
    }
    case "call_status": {
      const callDuration = f.seconds("CallDuration");
      return {
        kind,
        callSid: f.required("CallSid"),
        callStatus: f.oneOf("CallStatus", CALL_STATUSES),
        to: f.optional("To") ?? "",
        from: f.required("From"),
        direction: f.optional("Direction") === undefined ? "inbound" : f.oneOf("Direction", CALL_DIRECTIONS),
        ...(callDuration !== undefined && { callDuration }),
      };
    }
    case "dial": {
      const dialCallDuration = f.seconds("DialCallDuration");
      return {
        kind,
        callSid: f.required("CallSid"),
        dialCallStatus: f.oneOf("DialCallStatus", DIAL_CALL_STATUSES),
        ...(dialCallDuration !== undefined && { dialCallDuration }),
      };
    }
  }
}

/** Parses one of Twilio's voice webhooks; a missing or malformed field is a VALIDATION_ERROR naming it. */
export function parseVoiceWebhook<K extends VoiceWebhookKind>(
  kind: K,
  form: Form,
): Extract<VoiceWebhookEvent, { kind: K }> {
  const reader = new FieldReader(form);
  const event = read(kind, reader);
  if (reader.problems.length > 0) {
    const fields = reader.problems.map((p) => p.field).join(", ");
    throw new AppError("VALIDATION_ERROR", `Invalid Twilio ${kind} webhook: check ${fields}`, {
      details: reader.problems,
    });
  }
  return event as Extract<VoiceWebhookEvent, { kind: K }>;
}

/**
 * What identifies a recording for idempotency (Twilio retries webhooks): its RecordingSid, or the
 * last path segment of RecordingUrl (which is the SID) when Twilio did not send one.
 */
export function recordingKey(event: RecordingEvent): string {
  if (event.recordingSid) return event.recordingSid;
  const path = new URL(event.recordingUrl).pathname;
  return (path.split("/").pop() ?? "").replace(/\.[a-z0-9]+$/i, "");
}
