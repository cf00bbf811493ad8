import { XMLParser, XMLValidator } from "fast-xml-parser";

/**
 * TwiML as data for assertions: tests check verbs, attributes and text, never the XML string
 * (attribute order and self-closing tags are not behaviour).
 */
export interface TwimlVerb {
  name: string;
  attributes: Record<string, string>;
  /** The element's text with entities decoded; "" when it has none. */
  text: string;
  children: TwimlVerb[];
}

type OrderedNode = { [tag: string]: OrderedNode[] | string } & { ":@"?: Record<string, string> };

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: "",
  parseAttributeValue: false,
  parseTagValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: true,
});

function toVerb(node: OrderedNode): TwimlVerb {
  const name = Object.keys(node).find((key) => key !== ":@") ?? "";
  const content = node[name] as OrderedNode[];
  const children: TwimlVerb[] = [];
  let text = "";
  for (const child of content) {
    if (typeof child["#text"] === "string") text += child["#text"];
    else children.push(toVerb(child));
  }
  return { name, attributes: { ...node[":@"] }, text, children };
}

/** Twilio's limit for the text of one <Say> with a Polly voice (warning 13521): 3,000 UTF-8 bytes. */
const SAY_MAX_UTF8_BYTES = 3000;

/** Twilio does not speak a <Say> over its limit: such a document is refused here as a test failure. */
function checkSayLengths(verbs: TwimlVerb[]): void {
  for (const verb of verbs) {
    const bytes = new TextEncoder().encode(verb.text).byteLength;
    if (verb.name === "Say" && bytes > SAY_MAX_UTF8_BYTES) {
      throw new Error(`<Say> holds ${bytes} UTF-8 bytes; Twilio speaks at most ${SAY_MAX_UTF8_BYTES}`);
    }
    checkSayLengths(verb.children);
  }
}

/**
 * The verbs of a TwiML document, in order; throws unless it is well-formed XML with a <Response>
 * root and every <Say> is within Twilio's length limit.
 */
export function parseTwiml(xml: string): TwimlVerb[] {
  const valid = XMLValidator.validate(xml);
  if (valid !== true)
    throw new Error(`TwiML is not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`);
  if (!/^<\?xml version="1\.0" encoding="UTF-8"\?>/.test(xml)) {
    throw new Error('TwiML must start with <?xml version="1.0" encoding="UTF-8"?>');
  }
  const roots = (parser.parse(xml) as OrderedNode[]).filter((node) => !("?xml" in node)).map(toVerb);
  const [root] = roots;
  if (roots.length !== 1 || root?.name !== "Response") {
    throw new Error(
      `TwiML must have exactly one <Response> root, got ${roots.map((r) => r.name).join(", ")}`,
    );
  }
  checkSayLengths(root.children);
  return root.children;
}

/** A <Stream>'s <Parameter>s by name: what Twilio sends back in the `start` message's customParameters. */
export function streamParameters(stream: TwimlVerb | undefined): Record<string, string> {
  return Object.fromEntries(
    (stream?.children ?? [])
      .filter((p) => p.name === "Parameter")
      .map((p) => [p.attributes.name ?? "", p.attributes.value ?? ""]),
  );
}
