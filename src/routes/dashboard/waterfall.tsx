import type { TurnRecord } from "../../call/summary.ts";

/**
 * A turn's latency as a waterfall: one bar per stage, each starting where the one before it
 * ended, drawn as server-rendered SVG (no script, so nothing for the CSP to allow). Stream turns
 * are measured from the end of the caller's speech to each milestone; turns-mode turns as
 * consecutive stage durations.
 */

export interface Stage {
  label: string;
  start_ms: number;
  end_ms: number;
}

/** The stages of one turn's timings, in the order they happen. */
export function stagesOf(timings: TurnRecord["timings"]): Stage[] {
  const t = timings as unknown as Record<string, number | undefined>;
  if (t.first_frame_ms !== undefined || t.transcript_ms !== undefined) {
    // Stream pipeline: milestones after the end of speech.
    const marks: [string, number | undefined][] = [
      ["transcript", t.transcript_ms],
      ["first LLM token", t.first_token_ms],
      ["first TTS audio", t.first_audio_ms],
      ["first frame sent", t.first_frame_ms],
    ];
    const stages: Stage[] = [];
    let previous = 0;
    for (const [label, at] of marks) {
      if (at === undefined || !Number.isFinite(at) || at < 0) continue;
      stages.push({ label, start_ms: previous, end_ms: Math.max(previous, at) });
      previous = Math.max(previous, at);
    }
    return stages;
  }
  const steps: [string, number | undefined][] = [
    ["recording fetched", t.recording_ms],
    ["speech-to-text", t.stt_ms],
    ["LLM", t.llm_ms],
    ["text-to-speech", t.tts_ms],
  ];
  const stages: Stage[] = [];
  let cursor = 0;
  for (const [label, ms] of steps) {
    if (ms === undefined || !Number.isFinite(ms) || ms <= 0) continue;
    stages.push({ label, start_ms: cursor, end_ms: cursor + ms });
    cursor += ms;
  }
  return stages;
}

const ROW = 22;
const LABEL_W = 130;
const WIDTH = 560;

export function Waterfall({ turn }: { turn: TurnRecord }) {
  const stages = stagesOf(turn.timings);
  if (stages.length === 0) return <p class="hint">No timings for this turn.</p>;
  const total = Math.max(...stages.map((s) => s.end_ms), 1);
  const scale = (WIDTH - LABEL_W - 60) / total;
  const height = stages.length * ROW + 4;
  return (
    <figure class="waterfall">
      <svg
        viewBox={`0 0 ${WIDTH} ${height}`}
        role="img"
        aria-label={`Turn ${turn.seq} latency: ${stages.map((s) => `${s.label} at ${Math.round(s.end_ms)} ms`).join(", ")}`}
      >
        {stages.map((s, i) => (
          <g>
            <text x={0} y={i * ROW + 15}>
              {s.label}
            </text>
            <rect
              x={LABEL_W + s.start_ms * scale}
              y={i * ROW + 4}
              width={Math.max(2, (s.end_ms - s.start_ms) * scale)}
              height={ROW - 8}
              fill={["#0b5cad", "#1a7f37", "#9a6700", "#8250df"][i % 4]}
            />
            <text x={LABEL_W + s.end_ms * scale + 4} y={i * ROW + 15}>
              {`${Math.round(s.end_ms)} ms`}
            </text>
          </g>
        ))}
      </svg>
    </figure>
  );
}
