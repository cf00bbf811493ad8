import type { CallSummary } from "../../src/call/summary.ts";

/** An ended one-minute call to `phone` with no turns, as the call log stores it; `fields` override. */
export function summary(phone: string, fields: Partial<CallSummary>): CallSummary {
  return {
    call_sid: `CA${crypto.randomUUID().replace(/-/g, "")}`,
    from: "+14155550100",
    to: phone,
    display_name: "Sales Line",
    config_version: 1,
    config_source: "store",
    uses_defaults: false,
    mode: "turns",
    channel: "phone",
    recording_sid: null,
    status: "ended",
    started_at: "2026-11-02T10:00:00.000Z",
    ended_at: "2026-11-02T10:01:00.000Z",
    duration_seconds: 60,
    end_reason: "completed",
    turns: [],
    number_rule: "to",
    variant: null,
    rule: null,
    after_hours: false,
    ...fields,
  };
}
