import { asBase64Mulaw, type Base64Mulaw, type MulawAudio, mulawBase64 } from "../audio/mulaw-audio.ts";

/**
 * Twilio Media Streams (bidirectional, <Connect><Stream>) as typed events. Twilio sends JSON text
 * frames tagged by `event`; numbers such as chunk and timestamp arrive as strings. Parsing never
 * throws: a frame that is not what Twilio documents comes back as `invalid` with the reason, so
 * one bad frame cannot take down a live call.
 */

export interface MediaFormat {
  /** Always "audio/x-mulaw" today. */
  encoding: string;
  /** Hz; always 8000 today. */
  sampleRate: number;
  channels: number;
}

export type StreamEvent =
  | { kind: "connected"; protocol: string; version: string }
  | {
      kind: "start";
      streamSid: string;
      callSid: string;
      accountSid: string;
      tracks: string[];
      mediaFormat: MediaFormat;
      /** The <Parameter>s of the <Stream> TwiML. */
      customParameters: Record<string, string>;
    }
  | {
      kind: "media";
      streamSid: string;
      track: "inbound" | "outbound";
      chunk: number;
      /** Milliseconds since the stream started. */
      timestamp: number;
      /** μ-law, 8 kHz mono, as the base64 text Twilio sent (checked, not decoded). */
      payload: Base64Mulaw;
    }
  /** Twilio has played all audio sent before the mark of this name (or a clear dropped it). */
  | { kind: "mark"; streamSid: string; name: string }
  | { kind: "dtmf"; streamSid: string; digit: string }
  | { kind: "stop"; streamSid: string; callSid: string; accountSid: string };

export type InvalidStreamMessage = { kind: "invalid"; reason: string };

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Thrown only inside this module, to unwind a parse; parseStreamMessage turns it into `invalid`. */
class Malformed extends Error {}

function object(parent: Json, key: string, path: string): Json {
  const value = parent[key];
  if (!isObject(value)) throw new Malformed(`${path} must be an object`);
  return value;
}

function text(parent: Json, key: string, path: string): string {
  const value = parent[key];
  if (typeof value !== "string" || value === "") throw new Malformed(`${path} must be a non-empty string`);
  return value;
}

function integer(parent: Json, key: string, path: string): number {
  const value = parent[key];
  const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0)
    throw new Malformed(`${path} must be a whole number`);
  return n;
}

function stringRecord(value: unknown, path: string): Record<string, string> {
  if (value === undefined) return {};
  if (!isObject(value)) throw new Malformed(`${path} must be an object`);
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== "string") throw new Malformed(`${path}.${key} must be a string`);
  }
  return value as Record<string, string>;
}

function parseEvent(message: Json): StreamEvent {
  const event = text(message, "event", "event");
  switch (event) {
    case "connected":
      return {
        kind: "connected",
        protocol: text(message, "protocol", "protocol"),
        version: text(message, "version", "version"),
      };
    case "start": {
      const start = object(message, "start", "start");
      const format = object(start, "mediaFormat", "start.mediaFormat");
      const tracks = start.tracks;
      if (!Array.isArray(tracks) || !tracks.every((t) => typeof t === "string")) {
        throw new Malformed("start.tracks must be an array of strings");
      }
      return {
        kind: "start",
        streamSid: text(start, "streamSid", "start.streamSid"),
        callSid: text(start, "callSid", "start.callSid"),
        accountSid: text(start, "accountSid", "start.accountSid"),
        tracks,
        mediaFormat: {
          encoding: text(format, "encoding", "start.mediaFormat.encoding"),
          sampleRate: integer(format, "sampleRate", "start.mediaFormat.sampleRate"),
          channels: integer(format, "channels", "start.mediaFormat.channels"),
        },
        customParameters: stringRecord(start.customParameters, "start.customParameters"),
      };
    }
    case "media": {
      const media = object(message, "media", "media");
      const track = text(media, "track", "media.track");
      if (track !== "inbound" && track !== "outbound")
        throw new Malformed("media.track must be inbound or outbound");
      const payload = asBase64Mulaw(text(media, "payload", "media.payload"));
      if (!payload) throw new Malformed("media.payload must be base64");
      return {
        kind: "media",
        streamSid: text(message, "streamSid", "streamSid"),
        track,
        chunk: integer(media, "chunk", "media.chunk"),
        timestamp: integer(media, "timestamp", "media.timestamp"),
        payload,
      };
    }
    case "mark":
      return {
        kind: "mark",
        streamSid: text(message, "streamSid", "streamSid"),
        name: text(object(message, "mark", "mark"), "name", "mark.name"),
      };
    case "dtmf":
      return {
        kind: "dtmf",
        streamSid: text(message, "streamSid", "streamSid"),
        digit: text(object(message, "dtmf", "dtmf"), "digit", "dtmf.digit"),
      };
    case "stop": {
      const stop = object(message, "stop", "stop");
      return {
        kind: "stop",
        streamSid: text(message, "streamSid", "streamSid"),
        callSid: text(stop, "callSid", "stop.callSid"),
        accountSid: text(stop, "accountSid", "stop.accountSid"),
      };
    }
    default:
      throw new Malformed(`unknown event "${event}"`);
  }
}

/** One text frame from Twilio as a typed event, or `invalid` with the reason. */
export function parseStreamMessage(frame: string): StreamEvent | InvalidStreamMessage {
  let message: unknown;
  try {
    message = JSON.parse(frame);
  } catch (err) {
    return { kind: "invalid", reason: `not JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (!isObject(message)) return { kind: "invalid", reason: "not a JSON object" };
  try {
    return parseEvent(message);
  } catch (err) {
    if (err instanceof Malformed) return { kind: "invalid", reason: err.message };
    throw err;
  }
}

/**
 * Audio for Twilio to play, queued after anything sent before: 8 kHz mono μ-law. Base64 text
 * goes in as it is (its alphabet needs no JSON escaping), so relayed audio is never re-encoded.
 */
export function mediaMessage(streamSid: string, mulaw: MulawAudio): string {
  return `{"event":"media","streamSid":${JSON.stringify(streamSid)},"media":{"payload":"${mulawBase64(mulaw)}"}}`;
}

/** Asks Twilio to send back a mark named `name` once the audio queued before it has played. */
export function markMessage(streamSid: string, name: string): string {
  return JSON.stringify({ event: "mark", streamSid, mark: { name } });
}

/** Drops the audio Twilio has queued but not yet played (barge-in); pending marks come back. */
export function clearMessage(streamSid: string): string {
  return JSON.stringify({ event: "clear", streamSid });
}
