/**
 * Splits an LLM's streamed reply into sentences, so text-to-speech can start on the first one
 * while the rest is still being generated. A sentence ends at . ! or ? (with any closing
 * quotes or brackets) followed by whitespace, or at a newline; a period after a common
 * abbreviation or an initial does not end one, and decimals like 3.5 never have whitespace
 * after the point. A clause that runs past `maxLength` is cut at its last comma-like mark (or
 * else its last space) so speech is not held back by one very long sentence.
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
    return cut > 0 ? cut : undefined;
  }
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
