/** What a fake server records and how it can be told to misbehave (shared by both sides). */
export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: string;
  /** base64 of the raw body, for binary uploads (multipart audio) */
  bodyBase64: string;
  at: number;
  /** performance.now() in the fake's process when the request's body had been read, ms */
  receivedAt?: number;
  /**
   * The fake's own time on the request, ms: from `receivedAt` until its response was written in
   * full (its scripted delays, timer lateness and work). Absent while the response is unfinished.
   * Benchmarks subtract it to get what the Worker itself added.
   */
  servedMs?: number;
}

export interface Behavior {
  status?: number;
  delayMs?: number;
  body?: string;
  /** response headers for `status` (default: content-type application/json), e.g. retry-after */
  headers?: Record<string, string>;
  /** how many requests the behaviour applies to; unset = until reset */
  times?: number;
  /** only requests whose path contains this */
  pathIncludes?: string;
}
