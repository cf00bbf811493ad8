import { describe, expect, it } from "vitest";
import { accumulate, callFacts } from "../../src/call/analytics.ts";
import type { CallSummary, TurnRecord } from "../../src/call/summary.ts";
import { CreateConfigBody } from "../../src/config/schema.ts";
import { pageFigures } from "../../src/routes/dashboard/analytics-data.ts";
import { errorsByField, fieldSpecs, formToInput } from "../../src/routes/dashboard/form.ts";
import { stagesOf } from "../../src/routes/dashboard/waterfall.tsx";

const turn = (timings: Record<string, number>, outcome: TurnRecord["outcome"] = "reply"): TurnRecord => ({
  seq: 1,
  at: "2026-01-01T00:00:00.000Z",
  outcome,
  transcript: "hi",
  reply: "hello",
  timings: timings as unknown as TurnRecord["timings"],
});

const call = (
  started: string,
  seconds: number,
  reason: string | null,
  turns: TurnRecord[],
  variant: string | null = null,
): CallSummary =>
  ({
    call_sid: `CA${started}`,
    status: "ended",
    started_at: started,
    duration_seconds: seconds,
    end_reason: reason,
    turns,
    variant,
  }) as unknown as CallSummary;

describe("console form from the API's schema", () => {
  const specs = fieldSpecs(CreateConfigBody.shape);
  const byName = Object.fromEntries(specs.map((s) => [s.name, s]));

  it("gives every schema field an input of the right kind, with the schema's bounds", () => {
    expect(specs.map((s) => s.name)).toEqual(Object.keys(CreateConfigBody.shape));
    expect(byName.temperature).toMatchObject({
      kind: "number",
      min: 0,
      max: 2,
      integer: false,
      required: false,
    });
    expect(byName.max_tokens).toMatchObject({ kind: "number", integer: true });
    expect(byName.is_active).toMatchObject({ kind: "checkbox" });
    expect(byName.conversation_mode).toMatchObject({
      kind: "select",
      options: ["stream", "turns", "realtime"],
    });
    expect(byName.system_prompt).toMatchObject({ kind: "textarea", required: true });
    expect(byName.display_name).toMatchObject({ kind: "text", required: true });
  });

  it("turns a form post into the API's JSON body, leaving bad numbers for the schema to name", () => {
    const { input, errors } = formToInput(specs, {
      phone_number: "+18668134984",
      temperature: "3",
      max_tokens: "lots",
      enable_recording: "on",
      greeting: "",
    });
    expect(errors).toEqual([]);
    expect(input).toMatchObject({
      temperature: 3,
      max_tokens: "lots",
      enable_recording: true,
      is_active: false,
    });
    expect(input).not.toHaveProperty("greeting");
    const parsed = CreateConfigBody.safeParse(input);
    expect(parsed.success).toBe(false);
  });

  it("reports JSON that does not parse at its field", () => {
    const { errors } = formToInput([{ name: "variants", kind: "json", label: "Variants", required: false }], {
      variants: "[{",
    });
    expect(errorsByField(errors).variants).toMatch(/^not valid JSON/);
  });
});

describe("latency waterfall", () => {
  it("chains stream milestones after the end of speech", () => {
    expect(
      stagesOf(
        turn({ transcript_ms: 300, first_token_ms: 500, first_audio_ms: 700, first_frame_ms: 720 }).timings,
      ),
    ).toEqual([
      { label: "transcript", start_ms: 0, end_ms: 300 },
      { label: "first LLM token", start_ms: 300, end_ms: 500 },
      { label: "first TTS audio", start_ms: 500, end_ms: 700 },
      { label: "first frame sent", start_ms: 700, end_ms: 720 },
    ]);
  });

  it("lays turns-mode stages end to end", () => {
    const stages = stagesOf(
      turn({ recording_ms: 100, stt_ms: 200, llm_ms: 300, tts_ms: 0, total_ms: 600 }).timings,
    );
    expect(stages.map((s) => [s.label, s.start_ms, s.end_ms])).toEqual([
      ["recording fetched", 0, 100],
      ["speech-to-text", 100, 300],
      ["LLM", 300, 600],
    ]);
  });
});

describe("analytics figures", () => {
  // Built the way the shards build them: each summary's stored facts, folded by day and by variant.
  const figures = (calls: CallSummary[], since: string, until: string) => {
    const facts = calls.map(callFacts).filter((f) => f !== null);
    return pageFigures(
      accumulate(facts, { groupBy: "day", timezone: "UTC" }),
      accumulate(facts, { groupBy: "variant", timezone: "UTC" }),
      since,
      until,
    );
  };

  it("counts calls, minutes, end reasons, variants and latency per day, with empty days as zero", () => {
    const data = figures(
      [
        call(
          "2026-03-01T10:00:00.000Z",
          90,
          "completed",
          [turn({ stt_ms: 100, llm_ms: 500, tts_ms: 200 }), turn({ stt_ms: 200, llm_ms: 800, tts_ms: 200 })],
          "a",
        ),
        call(
          "2026-03-01T11:00:00.000Z",
          30,
          "busy",
          [turn({ stt_ms: 0, llm_ms: 0, tts_ms: 0 }, "silence")],
          "b",
        ),
        call("2026-03-03T09:00:00.000Z", 60, "completed", [turn({ first_frame_ms: 600 })], "a"),
        // Still in progress: no outcome yet, so not counted (as in GET /admin/analytics).
        call("2026-03-03T10:00:00.000Z", 0, null, []),
      ],
      "2026-03-01",
      "2026-03-03",
    );
    expect(data.days.map((d) => [d.day, d.calls, d.minutes])).toEqual([
      ["2026-03-01", 2, 2],
      ["2026-03-02", 0, 0],
      ["2026-03-03", 1, 1],
    ]);
    expect(data.days[0]).toMatchObject({ p50_ms: 800, p90_ms: 1200 });
    expect(data.totals).toEqual({ calls: 3, minutes: 3, turns: 4, p50_ms: 800, p90_ms: 1200 });
    expect(data.end_reasons).toEqual([
      { reason: "completed", calls: 2 },
      { reason: "busy", calls: 1 },
    ]);
    expect(data.variants).toEqual([
      { variant: "a", calls: 2, minutes: 2.5, p50_ms: 800 },
      { variant: "b", calls: 1, minutes: 0.5, p50_ms: null },
    ]);
  });
});
