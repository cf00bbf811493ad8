/**
 * workerd reports an exception no JavaScript could catch (a fetch cancelled with a reason while
 * its body was being sent, a promise nobody awaited) only as an "uncaught exception" line in its
 * own log, which the Workers pool writes to this process's stdout or stderr. `watchRuntimeLog`
 * (called by test/global-setup.ts) keeps every such line, and the setup's teardown fails the run
 * if there was one: no test may leave one behind, whatever it asserts itself. Node side only.
 */

const PATTERN = /uncaught exception/i;
/**
 * The one report allowed: a POST to a peer that refused or dropped the connection makes workerd
 * log its own request-body pump failing too, although the fetch itself rejected (and was
 * handled). That is the runtime describing a network failure a test provoked on purpose.
 */
const RUNTIME_NETWORK_FAILURE = /Network connection lost\./;

/** Starts watching both output streams; returns the lines seen so far, live. */
export function watchRuntimeLog(): string[] {
  const seen: string[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      const text = typeof chunk === "string" ? chunk : Buffer.isBuffer(chunk) ? chunk.toString("utf8") : "";
      for (const line of text.split("\n"))
        if (PATTERN.test(line) && !RUNTIME_NETWORK_FAILURE.test(line)) seen.push(line.trim());
      return write(chunk, ...rest);
    }) as typeof stream.write;
  }
  return seen;
}
