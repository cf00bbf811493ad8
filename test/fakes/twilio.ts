import type { ServerResponse } from "node:http";
import {
  type FakeServer,
  json,
  type NamespaceState,
  type RecordedRequest,
  startFakeServer,
} from "./server.ts";
import { tone, wavFile } from "./wav.ts";

/**
 * Twilio's REST API, for exactly the endpoints src/twilio/rest.ts uses, in Twilio's own formats:
 * basic auth with the account SID and auth token vitest.config.ts gives the Worker, JSON
 * resources in snake_case, and Twilio's JSON error bodies. Every call SID is a live call until
 * it is ended (by `Status=completed`, or by a test playing the caller hanging up); then call
 * changes fail with Twilio's 21220; a `Twiml` over 4,000 characters fails with 32018. A path with an empty account (`/Accounts//...`) is 404. Test controls (inside a namespace, like the API):
 *   POST /__twilio/calls/<CallSid>/end                      -> the caller hangs up
 *   POST /__twilio/recordings/<RecordingSid>/not-ready?times=N -> the next N downloads get 404
 *   POST /__twilio/recordings/<RecordingSid>/duration?ms=N   -> the recording holds N ms of audio
 */

export const TWILIO_FAKE_ACCOUNT_SID = "AC00000000000000000000000000000000";
export const TWILIO_FAKE_AUTH_TOKEN = "test-twilio-auth-token";

const API = "/2010-04-01";
/** A call create/update's `Twiml` parameter, at most (Twilio error 32018), characters. */
export const MAX_TWIML_CHARS = 4000;

/** What the fake answers; written by `handle`. */
interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

const twilioError = (status: number, code: number, message: string): Reply => ({
  status,
  body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
});

function authorized(req: RecordedRequest): boolean {
  const expected = `Basic ${Buffer.from(`${TWILIO_FAKE_ACCOUNT_SID}:${TWILIO_FAKE_AUTH_TOKEN}`).toString("base64")}`;
  return req.headers.authorization === expected;
}

/** A namespace's piece of state, created on first use. */
function slot<T>(state: NamespaceState, key: string, create: () => T): T {
  if (!state.has(key)) state.set(key, create());
  return state.get(key) as T;
}

/** Calls that have ended (hung up through the API or by the caller). */
const endedCalls = (state: NamespaceState) => slot(state, "endedCalls", () => new Set<string>());
/** Recording SID -> how many more downloads get 404. */
const notReady = (state: NamespaceState) => slot(state, "notReady", () => new Map<string, number>());
/** Recording SID -> its length in ms, when not the default second. */
const durations = (state: NamespaceState) => slot(state, "durations", () => new Map<string, number>());

const sid = (prefix: string) => `${prefix}${crypto.randomUUID().replaceAll("-", "")}`;

/** A 440 Hz tone as Twilio's recordings come: WAV, 16-bit PCM, 8 kHz, mono. */
const toneWav = (ms = 1000) => wavFile(tone(8000, ms, 440, 8000), 8000);

const TONE = toneWav();

function callResource(callSid: string, status: string) {
  const now = new Date().toUTCString();
  return {
    sid: callSid,
    account_sid: TWILIO_FAKE_ACCOUNT_SID,
    api_version: "2010-04-01",
    status,
    direction: "inbound",
    from: "+15005550006",
    to: "+15005550001",
    date_created: now,
    date_updated: now,
    start_time: now,
    end_time: status === "completed" ? now : null,
    uri: `${API}/Accounts/${TWILIO_FAKE_ACCOUNT_SID}/Calls/${callSid}.json`,
  };
}

function recordingResource(callSid: string, form: URLSearchParams) {
  const recordingSid = sid("RE");
  const now = new Date().toUTCString();
  return {
    sid: recordingSid,
    account_sid: TWILIO_FAKE_ACCOUNT_SID,
    call_sid: callSid,
    api_version: "2010-04-01",
    status: "in-progress",
    channels: form.get("RecordingChannels") === "dual" ? 2 : 1,
    source: "StartCallRecordingAPI",
    track: "both",
    duration: null,
    error_code: null,
    start_time: now,
    date_created: now,
    date_updated: now,
    uri: `${API}/Accounts/${TWILIO_FAKE_ACCOUNT_SID}/Calls/${callSid}/Recordings/${recordingSid}.json`,
  };
}

function route(req: RecordedRequest, state: NamespaceState): Reply {
  const control = /^\/__twilio\/(calls|recordings)\/([^/]+)\/(end|not-ready|duration)$/.exec(req.path);
  if (control && req.method === "POST") {
    const [, , target = "", action] = control;
    if (action === "end") endedCalls(state).add(target);
    else if (action === "duration") durations(state).set(target, Number(req.query.ms ?? "1000"));
    else notReady(state).set(target, Number(req.query.times ?? "1"));
    return { status: 200, body: { ok: true } };
  }

  const notFound = twilioError(404, 20404, `The requested resource ${req.path} was not found`);
  // No account in the path matches no resource, whoever asks (a client with an empty account SID).
  if (req.path.startsWith(`${API}/Accounts//`)) return notFound;
  if (!authorized(req)) {
    return {
      status: 401,
      headers: { "www-authenticate": 'Basic realm="Twilio API"' },
      body: {
        code: 20003,
        detail: "Your AccountSid or AuthToken was incorrect.",
        message: "Authenticate",
        more_info: "https://www.twilio.com/docs/errors/20003",
        status: 401,
      },
    };
  }
  const prefix = `${API}/Accounts/${TWILIO_FAKE_ACCOUNT_SID}`;
  if (!req.path.startsWith(`${prefix}/`)) return notFound;
  const path = req.path.slice(prefix.length);

  const recording = /^\/Recordings\/(RE[0-9a-zA-Z]+)\.wav$/.exec(path);
  if (recording && req.method === "GET") {
    const recordingSid = recording[1] ?? "";
    const remaining = notReady(state).get(recordingSid) ?? 0;
    if (remaining > 0) {
      notReady(state).set(recordingSid, remaining - 1);
      return notFound;
    }
    const ms = durations(state).get(recordingSid);
    return {
      status: 200,
      headers: { "content-type": "audio/x-wav" },
      body: ms === undefined ? TONE : toneWav(ms),
    };
  }

  const call = /^\/Calls\/(CA[0-9a-zA-Z]+)(\.json|\/Recordings\.json)$/.exec(path);
  if (call && req.method === "POST") {
    const callSid = call[1] ?? "";
    const form = new URLSearchParams(req.body);
    const twiml = form.get("Twiml");
    if (twiml !== null && twiml.length > MAX_TWIML_CHARS)
      return twilioError(
        400,
        32018,
        `Twiml size exceeded maximum allowed value of ${MAX_TWIML_CHARS} characters`,
      );
    if (endedCalls(state).has(callSid))
      return twilioError(400, 21220, "Call is not in-progress. Cannot redirect.");
    if (call[2] === "/Recordings.json") return { status: 201, body: recordingResource(callSid, form) };
    const ending = form.get("Status") === "completed";
    if (ending) endedCalls(state).add(callSid);
    return { status: 200, body: callResource(callSid, ending ? "completed" : "in-progress") };
  }

  return notFound;
}

function handle(req: RecordedRequest, res: ServerResponse, state: NamespaceState): void {
  const reply = route(req, state);
  if (Buffer.isBuffer(reply.body)) {
    res.writeHead(reply.status, { ...reply.headers, "content-length": reply.body.length });
    res.end(reply.body);
  } else {
    for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
    json(res, reply.status, reply.body);
  }
}

export function startTwilioFake(): Promise<FakeServer> {
  return startFakeServer("twilio", handle);
}
