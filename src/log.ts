/**
 * One structured JSON line per event. Callers pass `callSid` or `request_id` so a line can be
 * traced; secrets never go in here (connection strings and keys are not logged anywhere).
 */
export type LogFields = Record<string, unknown>;

function write(level: "info" | "warn" | "error", event: string, fields: LogFields): void {
  const line = JSON.stringify({ level, event, ts: new Date().toISOString(), ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

export const log = {
  info: (event: string, fields: LogFields = {}) => write("info", event, fields),
  warn: (event: string, fields: LogFields = {}) => write("warn", event, fields),
  error: (event: string, fields: LogFields = {}) => write("error", event, fields),
};

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
