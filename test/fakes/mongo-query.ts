/**
 * The parts of MongoDB's query language both MongoDB fakes (test/fakes/data-api.ts,
 * test/fakes/mongo-wire.ts) need for the stores' list queries (src/stores/config-query.ts):
 * `$or`, `$in`, `$regex`/`$options` in filters, and aggregation pipelines of `$match`, `$facet`,
 * `$count`, `$sort`, `$skip`, `$limit` and `$project`. What a server refuses is refused here
 * with the server's code and message (MongoDB 7.0); stages and options the stores never send
 * are refused too, loudly, so a new one cannot slip past the tests unmodelled. Unlike a server,
 * a filter is checked as documents are matched against it, so an empty collection accepts any.
 */

type Doc = Record<string, unknown>;
/** A fake's own matcher for a whole filter (it calls back into matchOperator for the operators here). */
export type Matcher = (doc: Doc, filter: Doc) => boolean;

/** A server error: each fake answers it in its own wire format. */
export class MongoQueryError extends Error {
  readonly code: number;
  readonly codeName: string;

  constructor(code: number, codeName: string, message: string) {
    super(message);
    this.code = code;
    this.codeName = codeName;
  }
}

const badValue = (message: string) => new MongoQueryError(2, "BadValue", message);

/** `$or: [filter, ...]`: a non-empty array of filters, any of which matches. */
export function matchesOr(doc: Doc, arg: unknown, matches: Matcher): boolean {
  if (!Array.isArray(arg)) throw badValue("$or must be an array");
  if (arg.length === 0) throw badValue("$and/$or/$nor must be a nonempty array");
  return arg.some((clause) => {
    if (!clause || typeof clause !== "object" || Array.isArray(clause)) {
      throw badValue("$or/$and/$nor entries need to be full objects");
    }
    return matches(doc, clause as Doc);
  });
}

/** JavaScript flags for MongoDB's `$options` (PCRE in UTF-8 mode, hence `u`). */
function regexFlags(options: unknown): string {
  if (options === undefined) return "u";
  if (typeof options !== "string") throw badValue("$options has to be a string");
  let flags = "u";
  for (const option of options) {
    if (option === "i" || option === "m" || option === "s") flags += option;
    else if (option === "x" || option === "u") {
      throw new MongoQueryError(2, "BadValue", `the fake does not model the $options flag ${option}`);
    } else throw new MongoQueryError(51108, "Location51108", `invalid flag in regex options: ${option}`);
  }
  return flags;
}

/**
 * The operators of this module in a field's condition (`{ $in }`, `{ $regex, $options }`):
 * undefined for any other operator, which the calling fake then handles or refuses.
 * `present` says whether the document has the field (a missing field matches `$in: [null]`).
 */
export function matchOperator(
  op: string,
  arg: unknown,
  condition: Doc,
  value: unknown,
  present: boolean,
  same: (a: unknown, b: unknown) => boolean,
): boolean | undefined {
  if (op === "$in") {
    if (!Array.isArray(arg)) throw badValue("$in needs an array");
    return arg.some((wanted) => (wanted === null ? !present || value === null : same(value, wanted)));
  }
  if (op === "$options") {
    if (!("$regex" in condition)) throw badValue("$options needs a $regex");
    return true;
  }
  if (op === "$regex") {
    if (typeof arg !== "string") throw badValue("$regex has to be a string");
    return matchRegex(value, arg, condition.$options);
  }
  return undefined;
}

/**
 * A regular expression against a field's value: `{ $regex, $options }`, or a BSON regular
 * expression, which is what an EJSON body's `{"$regex": ..., "$options": ...}` parses into.
 */
export function matchRegex(value: unknown, source: string, options: unknown): boolean {
  let pattern: RegExp;
  try {
    pattern = new RegExp(source, regexFlags(options));
  } catch (err) {
    if (err instanceof MongoQueryError) throw err;
    throw new MongoQueryError(51091, "Location51091", `Regular expression is invalid: ${String(err)}`);
  }
  // As on a server: a regex matches strings only, never a missing field or a number.
  return typeof value === "string" && pattern.test(value);
}

function compare(a: unknown, b: unknown): number {
  const x = a instanceof Date ? a.getTime() : a;
  const y = b instanceof Date ? b.getTime() : b;
  if (x === y) return 0;
  if (x === undefined || x === null) return -1;
  if (y === undefined || y === null) return 1;
  return (x as string | number) < (y as string | number) ? -1 : 1;
}

function stageOf(stage: unknown): [string, unknown] {
  if (!stage || typeof stage !== "object" || Array.isArray(stage) || Object.keys(stage).length !== 1) {
    throw new MongoQueryError(
      40323,
      "Location40323",
      "A pipeline stage specification object must contain exactly one field.",
    );
  }
  return Object.entries(stage)[0] as [string, unknown];
}

function sortStage(docs: Doc[], spec: unknown): Doc[] {
  const keys = Object.entries((spec ?? {}) as Doc);
  if (keys.length === 0) {
    throw new MongoQueryError(15976, "Location15976", "$sort stage must have at least one sort key");
  }
  for (const [, direction] of keys) {
    if (direction !== 1 && direction !== -1) {
      throw new MongoQueryError(
        15975,
        "Location15975",
        "$sort key ordering must be 1 (for ascending) or -1 (for descending)",
      );
    }
  }
  return [...docs].sort((x, y) => {
    for (const [key, direction] of keys) {
      const c = compare(x[key], y[key]) * (direction as number);
      if (c !== 0) return c;
    }
    return 0;
  });
}

function countStage(docs: Doc[], field: unknown): Doc[] {
  if (typeof field !== "string" || field === "") {
    throw new MongoQueryError(40156, "Location40156", "the count field must be a non-empty string");
  }
  if (field.startsWith("$")) {
    throw new MongoQueryError(40158, "Location40158", "the count field cannot be a $-prefixed path");
  }
  if (field.includes(".")) {
    throw new MongoQueryError(40160, "Location40160", "the count field cannot contain '.'");
  }
  // No input, no output: $count over nothing is an empty result, not { n: 0 }.
  return docs.length === 0 ? [] : [{ [field]: docs.length }];
}

function projectStage(docs: Doc[], spec: unknown): Doc[] {
  const entries = Object.entries((spec ?? {}) as Doc);
  const included = entries.filter(([k, v]) => k !== "_id" && Boolean(v)).map(([k]) => k);
  const excluded = entries.filter(([k, v]) => k !== "_id" && !v).map(([k]) => k);
  if (included.length > 0 && excluded.length > 0) {
    throw new MongoQueryError(
      31254,
      "Location31254",
      `Cannot do exclusion on field ${excluded[0]} in inclusion projection`,
    );
  }
  const keepId = (spec as Doc)._id !== 0 && (spec as Doc)._id !== false;
  return docs.map((doc) => {
    const out: Doc = included.length > 0 ? Object.fromEntries(included.map((k) => [k, doc[k]])) : { ...doc };
    for (const k of excluded) delete out[k];
    if (keepId && "_id" in doc) out._id = doc._id;
    else delete out._id;
    return out;
  });
}

/** Runs `pipeline` over `docs` (a collection's documents) as a server's `aggregate` does. */
export function runPipeline(docs: Doc[], pipeline: unknown, matches: Matcher, inFacet = false): Doc[] {
  if (!Array.isArray(pipeline)) {
    throw new MongoQueryError(14, "TypeMismatch", "'pipeline' option must be specified as an array");
  }
  let current = docs;
  for (const stage of pipeline) {
    const [name, spec] = stageOf(stage);
    switch (name) {
      case "$match":
        current = current.filter((d) => matches(d, (spec ?? {}) as Doc));
        break;
      case "$sort":
        current = sortStage(current, spec);
        break;
      case "$skip":
        if (typeof spec !== "number" || !Number.isInteger(spec) || spec < 0) {
          throw new MongoQueryError(
            5107200,
            "Location5107200",
            `invalid argument to $skip stage: Expected a non-negative number in: $skip: ${String(spec)}`,
          );
        }
        current = current.slice(spec);
        break;
      case "$limit":
        if (typeof spec !== "number" || !Number.isInteger(spec) || spec <= 0) {
          throw new MongoQueryError(15958, "Location15958", "the limit must be positive");
        }
        current = current.slice(0, spec);
        break;
      case "$count":
        current = countStage(current, spec);
        break;
      case "$project":
        current = projectStage(current, spec);
        break;
      case "$facet": {
        if (inFacet) {
          throw new MongoQueryError(
            40600,
            "Location40600",
            "$facet is not allowed to be used within a $facet stage",
          );
        }
        const input = current;
        // One document whatever the input, even none: each facet's results as an array.
        current = [
          Object.fromEntries(
            Object.entries((spec ?? {}) as Doc).map(([facet, sub]) => [
              facet,
              runPipeline(input, sub, matches, true),
            ]),
          ),
        ];
        break;
      }
      default:
        throw new MongoQueryError(40324, "Location40324", `Unrecognized pipeline stage name: '${name}'`);
    }
  }
  return current;
}
