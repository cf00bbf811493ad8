/**
 * One structured JSON line per event, with snake_case keys. A logger is bound once per request
 * (`request_id`, in services.ts) and once per call (`call_sid`, in the CallSession) with
 * `with(fields)`, and passed down, so every line about a call carries its `call_sid` without
 * each caller repeating it. Secrets never go in here (connection strings and keys are not
 * logged anywhere).
 */
export type LogFields = Record<string, unknown>;

export interface Logger {
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  /** A logger whose every line also carries `fields` (a line's own fields win on a clash). */
  with(fields: LogFields): Logger;
}

// The bound fields and the line's own are merged into the one object serialised: a line is
// written on every call's answer, so no intermediate copy. A field named level, event or ts
// cannot replace the line's own (set again, they keep their place at the start of the line).
function write(level: "info" | "warn" | "error", event: string, base: LogFields, fields: LogFields): void {
  const ts = new Date().toISOString();
  const entry = { level, event, ts, ...base, ...fields };
  entry.level = level;
  entry.event = event;
  entry.ts = ts;
  const line = JSON.stringify(entry);
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

function bound(base: LogFields): Logger {
  return {
    info: (event, fields = {}) => write("info", event, base, fields),
    warn: (event, fields = {}) => write("warn", event, base, fields),
    error: (event, fields = {}) => write("error", event, base, fields),
    with: (fields) => bound({ ...base, ...fields }),
  };
}

/** The unbound logger: for lines about no request or call (isolate start, a store's connection). */
export const log: Logger = bound({});

/** An error as loggable fields, following the `cause` chain. */
export function errorFields(err: unknown): LogFields {
  const chain: string[] = [];
  let current: unknown = err;
  while (current && chain.length < 5) {
    chain.push(current instanceof Error ? `${current.name}: ${current.message}` : String(current));
    current = current instanceof Error ? current.cause : undefined;
  }
  return { error: chain.join(" <- ") };
}
