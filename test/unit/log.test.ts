import { afterEach, describe, expect, it, vi } from "vitest";
import { log } from "../../src/log.ts";
import { captureLog, captureLogText } from "../support/log-capture.ts";

/** Lines written while `work` runs, parsed. */
function lines(work: () => void): Record<string, unknown>[] {
  const read = captureLog();
  work();
  return read();
}

/** Lines written while `work` runs, as written. */
function raw(work: () => void): string[] {
  const read = captureLogText();
  work();
  return read();
}

afterEach(() => vi.restoreAllMocks());

describe("log.with", () => {
  it("binds fields once: every line of the bound logger carries them, at every level", () => {
    const call = log.with({ call_sid: "CA1" }).with({ stream_sid: "MZ1" });
    const written = lines(() => {
      call.info("stream_started");
      call.warn("stream_send_failed", { error: "closed" });
      call.error("call_end_failed", { reason: "errors" });
    });
    expect(written).toEqual([
      expect.objectContaining({ level: "info", event: "stream_started", call_sid: "CA1", stream_sid: "MZ1" }),
      expect.objectContaining({
        level: "warn",
        event: "stream_send_failed",
        call_sid: "CA1",
        error: "closed",
      }),
      expect.objectContaining({
        level: "error",
        event: "call_end_failed",
        call_sid: "CA1",
        reason: "errors",
      }),
    ]);
  });

  it("leaves the logger it was bound from as it was", () => {
    const parent = log.with({ request_id: "r1" });
    parent.with({ call_sid: "CA1" });
    const [line] = lines(() => parent.info("x"));
    expect(line).toMatchObject({ request_id: "r1" });
    expect(line).not.toHaveProperty("call_sid");
  });

  it("lets a line's own field win over a bound one of the same name, without changing the binding", () => {
    const call = log.with({ call_sid: "CA1", stage: "answer" });
    const written = lines(() => {
      call.info("call_routed", { stage: "routing" });
      call.info("call_started");
    });
    expect(written[0]).toMatchObject({ call_sid: "CA1", stage: "routing" });
    expect(written[1]).toMatchObject({ call_sid: "CA1", stage: "answer" });
  });
});

describe("a log line", () => {
  it("is one JSON object starting with level, event and ts, so a reader can filter on its text", () => {
    const [line] = raw(() =>
      log.with({ request_id: "r1" }).warn("twilio_signature_rejected", { signed: true }),
    );
    expect(line).toMatch(
      /^\{"level":"warn","event":"twilio_signature_rejected","ts":"\d{4}-\d\d-\d\dT[^"]+Z",/,
    );
    expect(JSON.parse(line as string)).toMatchObject({ request_id: "r1", signed: true });
  });

  it("keeps the line's own level, event and ts when a field has one of those names", () => {
    const [line] = raw(() =>
      log.with({ ts: "bound" }).error("realtime_event_failed", { event: "response.done", level: "x" }),
    );
    expect(line).toMatch(/^\{"level":"error","event":"realtime_event_failed","ts":"\d{4}-/);
  });
});
