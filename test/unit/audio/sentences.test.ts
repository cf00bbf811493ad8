import { describe, expect, it } from "vitest";
import { SentenceSplitter, splitText } from "../../../src/audio/sentences.ts";

/** Everything the splitter yields for a stream of deltas, flush included. */
function split(deltas: string[], maxLength?: number): string[] {
  const splitter = new SentenceSplitter(maxLength);
  const out = deltas.flatMap((d) => splitter.push(d));
  const rest = splitter.flush();
  return rest === null ? out : [...out, rest];
}

/** Stream text one character at a time, the worst case for boundaries. */
const byChar = (text: string) => [...text];

describe("SentenceSplitter", () => {
  it("yields each sentence as soon as the whitespace after it arrives", () => {
    const splitter = new SentenceSplitter();
    expect(splitter.push("Hello there")).toEqual([]);
    expect(splitter.push("! How can")).toEqual(["Hello there!"]);
    expect(splitter.push(" I help?")).toEqual([]);
    expect(splitter.push(" We open at")).toEqual(["How can I help?"]);
    expect(splitter.flush()).toBe("We open at");
    expect(splitter.flush()).toBeNull();
  });

  it("gives the same sentences however the text is chunked", () => {
    const text = "Sure. Your table is booked for 7.30 tonight!  Anything else?\nThanks, Dr. Lee.";
    const expected = [
      "Sure.",
      "Your table is booked for 7.30 tonight!",
      "Anything else?",
      "Thanks, Dr. Lee.",
    ];
    expect(split([text])).toEqual(expected);
    expect(split(byChar(text))).toEqual(expected);
    expect(
      split([
        "Sure",
        ". Your table is booked for 7",
        ".",
        "30 tonight",
        "!",
        "  Any",
        "thing else?\nThanks, Dr",
        ". Lee.",
      ]),
    ).toEqual(expected);
  });

  it("does not cut inside numbers", () => {
    expect(split(byChar("It costs 3.5 dollars, or 1,200 cents. Okay?"))).toEqual([
      "It costs 3.5 dollars, or 1,200 cents.",
      "Okay?",
    ]);
  });

  it("does not cut after common abbreviations or initials", () => {
    const text = "Mr. Smith and Mrs. Jones saw Dr. Who, e.g. on TV at 8 p.m. with J. Doe. Then they left.";
    expect(split(byChar(text))).toEqual([
      "Mr. Smith and Mrs. Jones saw Dr. Who, e.g. on TV at 8 p.m. with J. Doe.",
      "Then they left.",
    ]);
  });

  it("cuts at newlines and keeps closing quotes and repeated marks with their sentence", () => {
    expect(split(byChar('He said "yes." Really?! Wow...\n- item one\n\n- item two'))).toEqual([
      'He said "yes."',
      "Really?!",
      "Wow...",
      "- item one",
      "- item two",
    ]);
  });

  it("cuts an over-long clause at its last comma within the limit, else at a space", () => {
    const text =
      "I can book the table for you tonight, and I will also send a confirmation message to this number right away";
    const pieces = split(byChar(text), 60);
    expect(pieces).toEqual([
      "I can book the table for you tonight,",
      "and I will also send a confirmation message to this number",
      "right away",
    ]);
    for (const piece of pieces) expect(piece.length).toBeLessThanOrEqual(60);
  });

  it("returns nothing for whitespace-only input", () => {
    expect(split(["  ", "\n\n", " "])).toEqual([]);
  });

  it("cuts a word longer than the limit (a URL, a run of digits) so no piece ever exceeds it", () => {
    const token = "7".repeat(5000);
    const pieces = split(byChar(`Your code is ${token} thanks.`), 160);
    for (const piece of pieces) expect(piece.length).toBeLessThanOrEqual(160);
    expect(pieces.join("").replace(/\s/g, "")).toBe(`Yourcodeis${token}thanks.`);
  });
});

describe("splitText", () => {
  /** A reply like the one in the field report: 5,048 characters of ordinary sentences. */
  const longReply = () => {
    const sentences: string[] = [];
    for (let i = 1; sentences.join(" ").length < 5048; i++) {
      sentences.push(`Step ${i}: open the settings page, choose the account tab and check the number again.`);
    }
    return `${sentences
      .join(" ")
      .slice(0, 5047)
      .replace(/\s*\S*$/, "")}.`;
  };

  it("keeps text within the limit as one piece", () => {
    expect(splitText("  Hello there. How are you?  ", 4096)).toEqual(["Hello there. How are you?"]);
    expect(splitText("   ", 10)).toEqual([]);
  });

  it("packs whole sentences into pieces under the limit, losing no words", () => {
    const text = longReply();
    const pieces = splitText(text, 4096);
    expect(pieces.length).toBe(2);
    for (const piece of pieces) {
      expect(piece.length).toBeLessThanOrEqual(4096);
      expect(piece).toMatch(/\.$/);
    }
    expect(pieces.join(" ")).toBe(text);
  });

  it("measures with the given function (UTF-8 bytes for Twilio's <Say>)", () => {
    const bytes = (s: string) => new TextEncoder().encode(s).byteLength;
    const text = "Ça coûte 5 €. ".repeat(400).trim();
    const pieces = splitText(text, 3000, bytes);
    expect(pieces.length).toBeGreaterThan(1);
    for (const piece of pieces) expect(bytes(piece)).toBeLessThanOrEqual(3000);
    expect(pieces.join(" ")).toBe(text);
  });

  it("cuts a sentence longer than the limit at a clause mark, else a space, else mid-word", () => {
    expect(splitText("one two, three four five six", 14)).toEqual(["one two,", "three four", "five six"]);
    expect(splitText("abcdefghij", 4)).toEqual(["abcd", "efgh", "ij"]);
  });

  it("never splits a character made of a surrogate pair", () => {
    const pieces = splitText("😀".repeat(5), 3);
    expect(pieces).toEqual(["😀", "😀", "😀", "😀", "😀"]);
  });
});
