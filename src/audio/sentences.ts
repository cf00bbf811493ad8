/**
 * Splits an LLM's streamed reply into sentences, so text-to-speech can start on the first one
 * while the rest is still being generated. A sentence ends at . ! or ? (with any closing
 * quotes or brackets) followed by whitespace, or at a newline; a period after a common
 * abbreviation or an initial does not end one, and decimals like 3.5 never have whitespace
 * after the point. A clause that runs past `maxLength` is cut at its last comma-like mark (or
 * else its last space, or else at `maxLength` itself) so speech is not held back by one very
 * long sentence. `splitText` packs a whole text into pieces under a hard limit (a provider's
 * or Twilio's), at sentence boundaries where it can.
 */

const TERMINATORS = ".!?";
const CLOSERS = "\"')]}\u201d\u2019\u00bb";
const CLAUSE_MARKS = ",;:\u2014";
/** Lower-case, without the final period. */
const ABBREVIATIONS = new Set([
  "mr",
  "mrs",
  "ms",
  "dr",
  "prof",
  "sr",
  "jr",
  "st",
  "vs",
  "e.g",
  "i.e",
  "a.m",
  "p.m",
  "approx",
  "dept",
  "est",
  "inc",
  "ltd",
  "mt",
]);

export const DEFAULT_MAX_SENTENCE_LENGTH = 160;

export class SentenceSplitter {
  private pending = "";
  /** Everything before this index of `pending` has been checked and holds no boundary. */
  private scanned = 0;

  private readonly maxLength: number;

  constructor(maxLength = DEFAULT_MAX_SENTENCE_LENGTH) {
    this.maxLength = maxLength;
    if (!Number.isInteger(maxLength) || maxLength < 1) {
      throw new RangeError(`maxLength must be a positive integer, got ${maxLength}`);
    }
  }

  /** Add the next piece of text; returns the sentences it completed, in order (often none). */
  push(textDelta: string): string[] {
    this.pending += textDelta;
    const sentences: string[] = [];
    for (;;) {
      const cut = this.findBoundary() ?? this.findLengthCut();
      if (cut === undefined) return sentences;
      const sentence = this.pending.slice(0, cut).trim();
      if (sentence) sentences.push(sentence);
      this.pending = this.pending.slice(cut).trimStart();
      this.scanned = 0;
    }
  }

  /** The text left at the end of the stream, or null if there is none; the splitter starts over. */
  flush(): string | null {
    const rest = this.pending.trim();
    this.pending = "";
    this.scanned = 0;
    return rest || null;
  }

  /** End index of the first complete sentence in `pending`, or undefined if none yet. */
  private findBoundary(): number | undefined {
    const text = this.pending;
    for (let i = this.scanned; i < text.length; i++) {
      const ch = text[i] as string;
      if (ch === "\n") return i + 1;
      if (!TERMINATORS.includes(ch)) continue;
      let end = i + 1;
      while (end < text.length && TERMINATORS.includes(text[end] as string)) end++;
      while (end < text.length && CLOSERS.includes(text[end] as string)) end++;
      if (end === text.length) {
        // Whether this ends a sentence depends on text not received yet.
        this.scanned = i;
        return undefined;
      }
      if (isSpace(text[end] as string) && !(ch === "." && end === i + 1 && isAbbreviation(text, i))) {
        return end;
      }
      i = end - 1;
    }
    this.scanned = text.length;
    return undefined;
  }

  /** Where to cut a run-on clause that has reached `maxLength`, or undefined. */
  private findLengthCut(): number | undefined {
    const text = this.pending;
    if (text.length <= this.maxLength) return undefined;
    let lastSpace = -1;
    let lastClause = -1;
    for (let i = 1; i <= this.maxLength; i++) {
      if (!isSpace(text[i] as string)) continue;
      lastSpace = i;
      if (CLAUSE_MARKS.includes(text[i - 1] as string)) lastClause = i;
    }
    const cut = lastClause > 0 ? lastClause : lastSpace;
    // One "word" longer than the limit (a URL, digits): cut it, never between a surrogate pair.
    return cut > 0 ? cut : Math.max(1, codePointBoundary(text, this.maxLength));
  }
}

/**
 * `text` as pieces that each measure at most `max` by `measure` (default: UTF-16 code units,
 * which is never less than the code points a provider counts), in order, trimmed, with nothing
 * lost but the whitespace between pieces. Whole sentences are packed together up to the limit;
 * a sentence longer than the limit is cut at its last clause mark, else its last space, else
 * mid-word. Used for the hard limits of text-to-speech requests and Twilio's `<Say>`.
 * Throws a RangeError if `max` is not a positive integer.
 */
export function splitText(
  text: string,
  max: number,
  measure: (piece: string) => number = lengthOf,
): string[] {
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`max must be a positive integer, got ${max}`);
  if (measure(text.trim()) <= max) return text.trim() ? [text.trim()] : [];
  const splitter = new SentenceSplitter(Number.MAX_SAFE_INTEGER);
  const sentences = splitter.push(text);
  const rest = splitter.flush();
  if (rest) sentences.push(rest);
  const pieces: string[] = [];
  let current = "";
  for (const sentence of sentences.flatMap((s) => cutToFit(s, max, measure))) {
    const joined = current ? `${current} ${sentence}` : sentence;
    if (measure(joined) <= max) {
      current = joined;
    } else {
      if (current) pieces.push(current);
      current = sentence;
    }
  }
  if (current) pieces.push(current);
  return pieces;
}

function lengthOf(piece: string): number {
  return piece.length;
}

/** A sentence cut into pieces that each fit, preferring clause marks, then spaces. */
function cutToFit(sentence: string, max: number, measure: (piece: string) => number): string[] {
  const pieces: string[] = [];
  let rest = sentence;
  while (measure(rest) > max) {
    // The longest prefix that fits (measures grow with length), found by bisection.
    let low = 0;
    let high = rest.length;
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      if (measure(rest.slice(0, codePointBoundary(rest, mid))) <= max) low = mid;
      else high = mid - 1;
    }
    const fits = Math.max(1, codePointBoundary(rest, low));
    let lastSpace = -1;
    let lastClause = -1;
    for (let i = 1; i < fits; i++) {
      if (!isSpace(rest[i] as string)) continue;
      lastSpace = i;
      if (CLAUSE_MARKS.includes(rest[i - 1] as string)) lastClause = i;
    }
    const cut = lastClause > 0 ? lastClause : lastSpace > 0 ? lastSpace : fits;
    const piece = rest.slice(0, cut).trim();
    if (piece) pieces.push(piece);
    rest = rest.slice(cut).trimStart();
  }
  if (rest) pieces.push(rest);
  return pieces;
}

/** `at`, moved back one if it would split a surrogate pair. */
function codePointBoundary(text: string, at: number): number {
  const code = text.charCodeAt(at - 1);
  return code >= 0xd800 && code <= 0xdbff ? at - 1 : at;
}

/** Whether the period at `dot` closes an abbreviation ("Dr.", "e.g.") or an initial ("J."). */
function isAbbreviation(text: string, dot: number): boolean {
  let start = dot;
  while (start > 0 && isWordOrDot(text[start - 1] as string)) start--;
  const word = text.slice(start, dot);
  if (word.length === 1 && word >= "A" && word <= "Z") return true;
  return ABBREVIATIONS.has(word.toLowerCase());
}

function isWordOrDot(ch: string): boolean {
  return ch === "." || ch.toLowerCase() !== ch.toUpperCase();
}

function isSpace(ch: string): boolean {
  return ch === " " || ch === "\n" || ch === "\t" || ch === "\r" || ch === "\u00a0";
}
