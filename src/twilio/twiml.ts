/**
 * A small typed TwiML builder: `twiml(say("Hi"), hangup())`. Attribute names are Twilio's own
 * (camelCase, as its TwiML reference spells them); every text and attribute value is escaped, so
 * model output or caller data can never change the document's structure.
 */

type AttributeValue = string | number | boolean | undefined;

/** One TwiML element; build them with the verb functions below rather than by hand. */
export interface Verb {
  readonly tag: string;
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  readonly text?: string;
  readonly children: readonly Verb[];
}

const element = (
  tag: string,
  attributes: Record<string, AttributeValue> = {},
  content: { text?: string; children?: Verb[] } = {},
): Verb => ({
  tag,
  attributes,
  children: content.children ?? [],
  ...(content.text !== undefined && { text: content.text }),
});

// Characters XML 1.0 forbids outright (controls other than tab/newline/return, lone surrogates,
// U+FFFE/U+FFFF): Twilio rejects a document holding one, so they are dropped, not escaped.
const NOT_XML =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding the controls XML forbids is the point
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** What each character that must not appear as itself is written as (one pass per string). */
const TEXT_ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;" };
// Tabs and line breaks are written as references because XML turns them into spaces in attributes.
const ATTRIBUTE_ENTITIES: Record<string, string> = {
  ...TEXT_ENTITIES,
  '"': "&quot;",
  "\t": "&#9;",
  "\n": "&#10;",
  "\r": "&#13;",
};

/**
 * Printable ASCII needing no entity in text or attributes: most values (URLs with their signed
 * tokens, numbers), written as they are without the two passes below.
 */
const PLAIN = /^[ !#-%'-;=?-~]*$/;

function escapeText(value: string): string {
  if (PLAIN.test(value)) return value;
  return value.replace(NOT_XML, "").replace(/[&<>]/g, (ch) => TEXT_ENTITIES[ch] as string);
}

function escapeAttribute(value: string): string {
  if (PLAIN.test(value)) return value;
  return value.replace(NOT_XML, "").replace(/[&<>"\t\n\r]/g, (ch) => ATTRIBUTE_ENTITIES[ch] as string);
}

function render(verb: Verb): string {
  const attributes = Object.entries(verb.attributes)
    .filter((entry): entry is [string, string | number | boolean] => entry[1] !== undefined)
    .map(([name, value]) => ` ${name}="${escapeAttribute(String(value))}"`)
    .join("");
  if (verb.text !== undefined) return `<${verb.tag}${attributes}>${escapeText(verb.text)}</${verb.tag}>`;
  if (verb.children.length === 0) return `<${verb.tag}${attributes}/>`;
  return `<${verb.tag}${attributes}>${verb.children.map(render).join("")}</${verb.tag}>`;
}

/** A complete TwiML document: the XML declaration and a <Response> holding `verbs` in order. */
export function twiml(...verbs: Verb[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?><Response>${verbs.map(render).join("")}</Response>`;
}

export function say(text: string, options: { voice?: string; language?: string } = {}): Verb {
  return element("Say", { voice: options.voice, language: options.language }, { text });
}

export function play(url: string): Verb {
  return element("Play", {}, { text: url });
}

export interface RecordOptions {
  /** Where Twilio POSTs RecordingUrl, RecordingSid and RecordingDuration when the recording ends. */
  action: string;
  method?: "GET" | "POST";
  /** Longest recording in seconds. */
  maxLength?: number;
  /** Seconds of silence that end the recording. */
  timeout?: number;
  playBeep?: boolean;
  trim?: "trim-silence" | "do-not-trim";
  finishOnKey?: string;
  recordingStatusCallback?: string;
  recordingStatusCallbackMethod?: "GET" | "POST";
  recordingStatusCallbackEvent?: string;
}

export function record(options: RecordOptions): Verb {
  return element("Record", {
    action: options.action,
    method: options.method,
    maxLength: options.maxLength,
    timeout: options.timeout,
    playBeep: options.playBeep,
    trim: options.trim,
    finishOnKey: options.finishOnKey,
    recordingStatusCallback: options.recordingStatusCallback,
    recordingStatusCallbackMethod: options.recordingStatusCallbackMethod,
    recordingStatusCallbackEvent: options.recordingStatusCallbackEvent,
  });
}

export function pause(seconds: number): Verb {
  return element("Pause", { length: seconds });
}

export function hangup(): Verb {
  return element("Hangup");
}

export function redirect(url: string, options: { method?: "GET" | "POST" } = {}): Verb {
  return element("Redirect", { method: options.method }, { text: url });
}

export interface DialOptions {
  /** Where Twilio POSTs DialCallStatus when the dialled call ends; its TwiML then runs. */
  action?: string;
  method?: "GET" | "POST";
  /** Caller ID the dialled party sees; Twilio's default is the caller's own number. */
  callerId?: string;
  /** Seconds to let the target ring (Twilio: 5 to 600, default 30). */
  timeout?: number;
  /** Keep the caller hearing ringing (not silence) until the target answers. */
  answerOnBridge?: boolean;
}

/** <Dial> one target: an E.164 number as <Number>, a `sip:` URI as <Sip>. */
export function dial(to: string, options: DialOptions = {}): Verb {
  const target = /^sip:/i.test(to) ? element("Sip", {}, { text: to }) : element("Number", {}, { text: to });
  return element(
    "Dial",
    {
      action: options.action,
      method: options.method,
      callerId: options.callerId,
      timeout: options.timeout,
      answerOnBridge: options.answerOnBridge,
    },
    { children: [target] },
  );
}

export interface StreamOptions {
  /** The wss:// URL Twilio opens the bidirectional Media Stream to. */
  url: string;
  /** Sent to the WebSocket in the `start` message's customParameters. */
  parameters?: Record<string, string>;
  statusCallback?: string;
  statusCallbackMethod?: "GET" | "POST";
}

/** <Connect><Stream>: a bidirectional Media Stream; the call stays in it until the socket closes. */
export function connectStream(options: StreamOptions): Verb {
  const parameters = Object.entries(options.parameters ?? {}).map(([name, value]) =>
    element("Parameter", { name, value }),
  );
  const stream = element(
    "Stream",
    {
      url: options.url,
      statusCallback: options.statusCallback,
      statusCallbackMethod: options.statusCallbackMethod,
    },
    { children: parameters },
  );
  return element("Connect", {}, { children: [stream] });
}

/**
 * <Reject>: refuse the call without answering it (no charge). Twilio plays a busy tone for
 * "busy" and a not-in-service message for "rejected".
 */
export function reject(reason: "rejected" | "busy" = "rejected"): Verb {
  return element("Reject", { reason });
}
