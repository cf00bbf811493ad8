import { describe, expect, it } from "vitest";
import { asBase64Mulaw, mulawBase64, mulawBytes, mulawLength } from "../../../src/audio/mulaw-audio.ts";
import {
  clearMessage,
  markMessage,
  mediaMessage,
  parseStreamMessage,
} from "../../../src/twilio/media-stream.ts";

const STREAM = "MZ18ad3ab5a668481ce02b83e7395059f0";
const CALL = "CA11111111111111111111111111111111";
const ACCOUNT = "AC00000000000000000000000000000000";

const frame = (bytes: number[]) => btoa(String.fromCharCode(...bytes));

// The example messages from Twilio's "Media Streams - WebSocket Messages" page.
const start = {
  event: "start",
  sequenceNumber: "1",
  start: {
    accountSid: ACCOUNT,
    streamSid: STREAM,
    callSid: CALL,
    tracks: ["inbound"],
    mediaFormat: { encoding: "audio/x-mulaw", sampleRate: 8000, channels: 1 },
    customParameters: { phone: "+15005550001", turn: "1" },
  },
  streamSid: STREAM,
};

const media = (fields: Record<string, unknown> = {}) => ({
  event: "media",
  sequenceNumber: "3",
  media: {
    track: "inbound",
    chunk: "1",
    timestamp: "5",
    payload: frame([0xff, 0x7f, 0x00, 0x80]),
    ...fields,
  },
  streamSid: STREAM,
});

describe("parseStreamMessage", () => {
  it("reads connected", () => {
    expect(
      parseStreamMessage(JSON.stringify({ event: "connected", protocol: "Call", version: "1.0.0" })),
    ).toEqual({
      kind: "connected",
      protocol: "Call",
      version: "1.0.0",
    });
  });

  it("reads start with the call, format and the <Stream>'s custom parameters", () => {
    expect(parseStreamMessage(JSON.stringify(start))).toEqual({
      kind: "start",
      streamSid: STREAM,
      callSid: CALL,
      accountSid: ACCOUNT,
      tracks: ["inbound"],
      mediaFormat: { encoding: "audio/x-mulaw", sampleRate: 8000, channels: 1 },
      customParameters: { phone: "+15005550001", turn: "1" },
    });
  });

  it("reads start without custom parameters as none", () => {
    const { customParameters: _, ...bare } = start.start;
    const event = parseStreamMessage(JSON.stringify({ ...start, start: bare }));
    expect(event).toMatchObject({ kind: "start", customParameters: {} });
  });

  it("reads media, keeping the payload as the base64 Twilio sent and the counters as numbers", () => {
    const event = parseStreamMessage(JSON.stringify(media()));
    expect(event).toEqual({
      kind: "media",
      streamSid: STREAM,
      track: "inbound",
      chunk: 1,
      timestamp: 5,
      payload: frame([0xff, 0x7f, 0x00, 0x80]),
    });
    expect(event.kind === "media" && mulawBytes(event.payload)).toEqual(
      new Uint8Array([0xff, 0x7f, 0x00, 0x80]),
    );
  });

  it("reads mark, dtmf and stop", () => {
    expect(
      parseStreamMessage(
        JSON.stringify({ event: "mark", sequenceNumber: "4", streamSid: STREAM, mark: { name: "turn-1" } }),
      ),
    ).toEqual({ kind: "mark", streamSid: STREAM, name: "turn-1" });
    expect(
      parseStreamMessage(
        JSON.stringify({
          event: "dtmf",
          streamSid: STREAM,
          sequenceNumber: "5",
          dtmf: { track: "inbound_track", digit: "1" },
        }),
      ),
    ).toEqual({ kind: "dtmf", streamSid: STREAM, digit: "1" });
    expect(
      parseStreamMessage(
        JSON.stringify({
          event: "stop",
          sequenceNumber: "5",
          stop: { accountSid: ACCOUNT, callSid: CALL },
          streamSid: STREAM,
        }),
      ),
    ).toEqual({ kind: "stop", streamSid: STREAM, callSid: CALL, accountSid: ACCOUNT });
  });

  it.each([
    ["text that is not JSON", "{not json", /not JSON/],
    ["JSON that is not an object", "[1,2]", /not a JSON object/],
    ["a message without an event", JSON.stringify({ streamSid: STREAM }), /event/],
    [
      "an event Twilio does not send",
      JSON.stringify({ event: "surprise", streamSid: STREAM }),
      /unknown event "surprise"/,
    ],
    [
      "start without its call SID",
      JSON.stringify({ ...start, start: { ...start.start, callSid: undefined } }),
      /start\.callSid/,
    ],
    [
      "start without a media format",
      JSON.stringify({ ...start, start: { ...start.start, mediaFormat: null } }),
      /mediaFormat/,
    ],
    [
      "start with a non-string custom parameter",
      JSON.stringify({ ...start, start: { ...start.start, customParameters: { n: 1 } } }),
      /customParameters\.n/,
    ],
    ["media without a stream SID", JSON.stringify({ ...media(), streamSid: undefined }), /streamSid/],
    ["media whose payload is not base64", JSON.stringify(media({ payload: "a*b=" })), /payload/],
    ["media with a negative chunk", JSON.stringify(media({ chunk: "-1" })), /media\.chunk/],
    ["media on a track Twilio does not name", JSON.stringify(media({ track: "both" })), /media\.track/],
    ["mark without a name", JSON.stringify({ event: "mark", streamSid: STREAM, mark: {} }), /mark\.name/],
    ["stop without its details", JSON.stringify({ event: "stop", streamSid: STREAM }), /stop/],
  ])("returns invalid, without throwing, for %s", (_, text, reason) => {
    const event = parseStreamMessage(text);
    expect(event.kind).toBe("invalid");
    expect(event.kind === "invalid" && event.reason).toMatch(reason);
  });
});

describe("messages to Twilio", () => {
  it("sends audio as a media message with a base64 payload", () => {
    const audio = new Uint8Array(160).map((_, i) => (i * 37) & 0xff);
    const message = JSON.parse(mediaMessage(STREAM, audio));
    expect(message).toEqual({ event: "media", streamSid: STREAM, media: { payload: frame([...audio]) } });
  });

  it("sends a mark and a clear in Twilio's shapes", () => {
    expect(JSON.parse(markMessage(STREAM, "turn-1"))).toEqual({
      event: "mark",
      streamSid: STREAM,
      mark: { name: "turn-1" },
    });
    expect(JSON.parse(clearMessage(STREAM))).toEqual({ event: "clear", streamSid: STREAM });
  });

  it("sends audio that reads back as the same bytes", () => {
    const audio = new Uint8Array(160).map((_, i) => 255 - i);
    const event = parseStreamMessage(
      mediaMessage(STREAM, audio).replace(
        '"media":{',
        '"media":{"track":"outbound","chunk":"1","timestamp":"0",',
      ),
    );
    expect(event.kind === "media" && mulawBytes(event.payload)).toEqual(audio);
  });

  it("relays base64 audio as the same text, not re-encoded", () => {
    const text = asBase64Mulaw(frame([1, 2, 3, 4, 5]));
    if (!text) throw new Error("fixture is not base64");
    expect(JSON.parse(mediaMessage(STREAM, text)).media.payload).toBe(text);
  });
});

describe("base64 μ-law", () => {
  it("counts the bytes of base64 text without decoding it, for every length around a frame", () => {
    for (let length = 0; length <= 170; length++) {
      const bytes = new Uint8Array(length).map((_, i) => (i * 151 + length) & 0xff);
      const text = asBase64Mulaw(frame([...bytes]));
      if (text === null) throw new Error(`${length} bytes: not base64`);
      expect(mulawLength(text)).toBe(length);
      expect(mulawBytes(text)).toEqual(bytes);
      expect(mulawBase64(bytes)).toBe(text);
    }
  });

  it("pads unpadded text and refuses text that is not standard base64", () => {
    expect(asBase64Mulaw("/38")).toBe("/38=");
    expect(asBase64Mulaw("/w")).toBe("/w==");
    for (const bad of ["ab-_", "abcde", "ab=", "é", 'ab"c']) expect(asBase64Mulaw(bad)).toBeNull();
  });
});
