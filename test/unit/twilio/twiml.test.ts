import { describe, expect, it } from "vitest";
import { transferTwiml } from "../../../src/twilio/call-twiml.ts";
import {
  connectStream,
  hangup,
  pause,
  play,
  record,
  redirect,
  say,
  twiml,
} from "../../../src/twilio/twiml.ts";
import { parseTwiml } from "../../support/twiml.ts";

describe("twiml", () => {
  it("is a UTF-8 XML document with a <Response> holding the verbs in order", () => {
    const verbs = parseTwiml(twiml(say("Hello"), pause(1), hangup()));
    expect(verbs.map((v) => v.name)).toEqual(["Say", "Pause", "Hangup"]);
  });

  it("allows an empty response", () => {
    expect(parseTwiml(twiml())).toEqual([]);
  });

  it("writes <Say> with its voice and language, leaving unset options out", () => {
    const [withOptions, plain] = parseTwiml(
      twiml(say("Bonjour", { voice: "Polly.Celine", language: "fr-FR" }), say("Hi")),
    );
    expect(withOptions).toMatchObject({
      attributes: { voice: "Polly.Celine", language: "fr-FR" },
      text: "Bonjour",
    });
    expect(plain).toMatchObject({ attributes: {}, text: "Hi" });
  });

  it("keeps text and attribute values exactly as given, markup and quotes included", () => {
    const hostile = `Tom & Jerry say "<Hangup/>" it's </Say><Play>x</Play> \t done\nnext`;
    const verbs = parseTwiml(
      twiml(
        say(hostile, { voice: hostile }),
        redirect("https://x.example/next?a=1&b=<2>"),
        play("https://x/a.mp3?q='1'"),
      ),
    );
    expect(verbs.map((v) => v.name)).toEqual(["Say", "Redirect", "Play"]);
    expect(verbs[0]?.text).toBe(hostile);
    expect(verbs[0]?.attributes.voice).toBe(hostile);
    expect(verbs[0]?.children).toEqual([]);
    expect(verbs[1]?.text).toBe("https://x.example/next?a=1&b=<2>");
    expect(verbs[2]?.text).toBe("https://x/a.mp3?q='1'");
  });

  it("keeps every printable ASCII character, alone and together, in text and attributes", () => {
    const printable = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i));
    for (const value of [...printable, printable.join("")]) {
      const [spoken] = parseTwiml(twiml(say(value, { voice: value })));
      expect(spoken?.text).toBe(value);
      expect(spoken?.attributes.voice).toBe(value);
    }
  });

  it("drops characters XML cannot carry instead of producing a document Twilio rejects", () => {
    const [spoken] = parseTwiml(twiml(say("a\u0000b\u0007c\u001Bd\uFFFEe\uD800f 😀")));
    expect(spoken?.text).toBe("abcdef 😀");
  });

  it("writes <Record> with Twilio's attribute names", () => {
    const [verb] = parseTwiml(
      twiml(
        record({
          action: "https://voice.example.test/twilio/recording?turn=2",
          method: "POST",
          maxLength: 30,
          timeout: 2,
          playBeep: false,
          trim: "trim-silence",
          finishOnKey: "#",
          recordingStatusCallback: "https://voice.example.test/twilio/recording-status",
        }),
      ),
    );
    expect(verb).toEqual({
      name: "Record",
      attributes: {
        action: "https://voice.example.test/twilio/recording?turn=2",
        method: "POST",
        maxLength: "30",
        timeout: "2",
        playBeep: "false",
        trim: "trim-silence",
        finishOnKey: "#",
        recordingStatusCallback: "https://voice.example.test/twilio/recording-status",
      },
      text: "",
      children: [],
    });
  });

  it("writes <Pause length>, <Play> and <Redirect method>", () => {
    const verbs = parseTwiml(
      twiml(pause(2), play("https://cdn.example/hold.mp3"), redirect("/twilio/voice", { method: "POST" })),
    );
    expect(verbs).toEqual([
      { name: "Pause", attributes: { length: "2" }, text: "", children: [] },
      { name: "Play", attributes: {}, text: "https://cdn.example/hold.mp3", children: [] },
      { name: "Redirect", attributes: { method: "POST" }, text: "/twilio/voice", children: [] },
    ]);
  });

  it("writes <Connect><Stream> with one <Parameter> per custom parameter", () => {
    const [connect] = parseTwiml(
      twiml(
        connectStream({
          url: "wss://voice.example.test/twilio/stream?x=1&y=2",
          parameters: { phone: "+15005550006", note: `a "quoted" & <tagged> value` },
          statusCallback: "https://voice.example.test/twilio/stream-status",
        }),
      ),
    );
    expect(connect?.name).toBe("Connect");
    expect(connect?.children).toEqual([
      {
        name: "Stream",
        attributes: {
          url: "wss://voice.example.test/twilio/stream?x=1&y=2",
          statusCallback: "https://voice.example.test/twilio/stream-status",
        },
        text: "",
        children: [
          { name: "Parameter", attributes: { name: "phone", value: "+15005550006" }, text: "", children: [] },
          {
            name: "Parameter",
            attributes: { name: "note", value: `a "quoted" & <tagged> value` },
            text: "",
            children: [],
          },
        ],
      },
    ]);
  });
});

describe("transferTwiml (a REST call update's Twiml)", () => {
  it("stays within Twilio's 4,000-character Twiml limit (error 32018) for the longest target a config accepts", () => {
    // src/config/tools.ts: `to` at most 256 characters, caller_id at most 40; a long public URL.
    const to = `sip:${"d".repeat(240)}@pbx.example.com`.slice(0, 256);
    const action = `https://${"voice".repeat(100)}.example.com/webhooks/twilio/dial`;
    const xml = transferTwiml({ to, callerId: `+${"1".repeat(39)}` }, action);
    expect(xml.length).toBeLessThan(4000);
    const [dial] = parseTwiml(xml);
    expect(dial?.children[0]?.text).toBe(to);
  });
});
