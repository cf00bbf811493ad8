import { Hono } from "hono";
import type { CallListItem } from "../../call/call-index.ts";
import { type CallFilter, findCall, recentCalls } from "../../call/call-log-reads.ts";
import { END_REASONS as CALL_END_REASONS, type CallSummary, type TurnRecord } from "../../call/summary.ts";
import { AppError } from "../../errors.ts";
import { Layout } from "./layout.tsx";
import { NumberField, type NumberFilter, readNumberFilter } from "./number-filter.tsx";
import { numberPath } from "./numbers.tsx";
import type { DashboardEnv } from "./types.ts";
import { Waterfall } from "./waterfall.tsx";

/**
 * Calls: the log with filters (number, date range, end reason), and one call's page: the
 * transcript as a conversation, a latency waterfall per turn, barge-ins, the config version
 * that answered, and how it ended. The list reads the call log's index (one query, however
 * many numbers have calls); a call's page reads its summary from its number's shard.
 */

export const CALLS_SHOWN = 100;
/** The end-reason filter: every way a call ends, and calls still going on. */
const END_REASONS = [...CALL_END_REASONS, "in_progress"] as const;

export interface CallsQuery {
  number: string;
  from: string;
  to: string;
  end_reason: string;
  /** an A/B variant's name; "" for any */
  variant: string;
}

const isDate = (v: string | undefined): v is string => typeof v === "string" && /^\d{4}-\d{2}-\d{2}$/.test(v);

export function parseCallsQuery(query: Record<string, string>): CallsQuery {
  return {
    number: (query.number ?? "").trim(),
    from: isDate(query.from) ? query.from : "",
    to: isDate(query.to) ? query.to : "",
    end_reason: (END_REASONS as readonly string[]).includes(query.end_reason ?? "")
      ? (query.end_reason ?? "")
      : "",
    variant: (query.variant ?? "").trim().slice(0, 64),
  };
}

/** The query as a call-log filter: dates are whole UTC days, `to` included. */
export function callFilter(q: CallsQuery, phoneNumber: string | undefined, limit = CALLS_SHOWN): CallFilter {
  const nextDay = (d: string) => new Date(Date.parse(`${d}T00:00:00Z`) + 86_400_000).toISOString();
  return {
    limit,
    ...(phoneNumber && { phoneNumber }),
    ...(q.from && { since: `${q.from}T00:00:00.000Z` }),
    ...(q.to && { until: nextDay(q.to) }),
    ...(q.end_reason && { endReason: q.end_reason }),
    ...(q.variant && { variant: q.variant }),
  };
}

export const callPath = (sid: string) => `/dashboard/calls/${encodeURIComponent(sid)}`;
const when = (iso: string) => iso.slice(0, 19).replace("T", " ");
const duration = (s: number | null) =>
  s === null ? "" : `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;

function EndBadge({ call }: { call: Pick<CallSummary, "status" | "end_reason"> }) {
  if (call.status === "in_progress") return <span class="badge ok">in progress</span>;
  const bad = ["failed", "errors", "stream_closed", "abandoned", "start_failed"].includes(
    call.end_reason ?? "",
  );
  return <span class={bad ? "badge bad" : "badge off"}>{call.end_reason}</span>;
}

function CallsList({
  calls,
  query,
  number,
  csrf,
}: {
  calls: CallListItem[];
  query: CallsQuery;
  number: NumberFilter;
  csrf: string;
}) {
  return (
    <Layout title="Calls" section="calls" csrf={csrf}>
      <h1>Calls</h1>
      <form method="get" action="/dashboard/calls" class="filters">
        <NumberField filter={number} placeholder="+18668134984" />
        <div class="field">
          <label for="from">From</label>
          <input id="from" name="from" type="date" value={query.from} />
        </div>
        <div class="field">
          <label for="to">To</label>
          <input id="to" name="to" type="date" value={query.to} />
        </div>
        <div class="field">
          <label for="end_reason">End reason</label>
          <select id="end_reason" name="end_reason">
            <option value="" selected={!query.end_reason}>
              any
            </option>
            {END_REASONS.map((r) => (
              <option value={r} selected={query.end_reason === r}>
                {r.replace("_", " ")}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="variant">Variant</label>
          <input id="variant" name="variant" type="search" value={query.variant} placeholder="any" />
        </div>
        <button type="submit">Filter</button>
      </form>
      <p class="count" aria-live="polite">
        {calls.length === 0
          ? "No calls match."
          : `${calls.length === CALLS_SHOWN ? `The latest ${CALLS_SHOWN}` : calls.length} call${calls.length === 1 ? "" : "s"}, newest first.`}
      </p>
      {calls.length > 0 && (
        <div class="table-wrap">
          <table class="calls">
            <thead>
              <tr>
                <th scope="col">Started (UTC)</th>
                <th scope="col">From</th>
                <th scope="col">To</th>
                <th scope="col">Mode</th>
                <th scope="col">Duration</th>
                <th scope="col">Turns</th>
                <th scope="col">Variant</th>
                <th scope="col">Ended</th>
              </tr>
            </thead>
            <tbody>
              {calls.map((call) => (
                <tr>
                  <td>
                    <a href={callPath(call.call_sid)}>
                      <time datetime={call.started_at}>{when(call.started_at)}</time>
                    </a>
                  </td>
                  <td>
                    {call.channel === "web" ? <span class="badge ok">browser test call</span> : call.from}
                  </td>
                  <td>
                    {call.to} <span class="sub">{call.display_name}</span>
                  </td>
                  <td>{call.mode}</td>
                  <td>{duration(call.duration_seconds)}</td>
                  <td>{call.turns}</td>
                  <td>{call.variant ?? ""}</td>
                  <td>
                    <EndBadge call={call} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Layout>
  );
}

function Turn({ turn }: { turn: TurnRecord }) {
  return (
    <>
      {turn.transcript !== null && (
        <li class="caller">
          <span class="who">Caller · turn {turn.seq}</span>
          {turn.transcript}
        </li>
      )}
      {turn.outcome === "silence" && (
        <li class="caller">
          <span class="who">Caller · turn {turn.seq}</span>
          <em>(silence)</em>
        </li>
      )}
      {(turn.tools ?? []).map((tool) => (
        <li class="agent tool">
          <span class="who">
            Tool call · {tool.name} · {tool.status} · {Math.round(tool.latency_ms)} ms
          </span>
          <code>{JSON.stringify(tool.arguments)}</code>
          {tool.target &&
            ` → ${tool.target.name} (${tool.target.to})${tool.dial_outcome ? `, ${tool.dial_outcome}` : ""}`}
          {tool.error && <span class="error"> {tool.error}</span>}
        </li>
      ))}
      {turn.reply !== null && (
        <li class="agent">
          <span class="who">
            Agent{turn.interrupted ? " · barge-in: the caller interrupted; this is what they heard" : ""}
          </span>
          {turn.reply}
        </li>
      )}
      {turn.outcome === "failed" && (
        <li class="agent">
          <span class="who">Agent</span>
          <span class="badge bad">failed at {turn.failed_stage ?? "unknown stage"}</span>
        </li>
      )}
    </>
  );
}

function CallPage({
  call,
  csrf,
  recordingUrl,
}: {
  call: CallSummary;
  csrf: string;
  recordingUrl: string | null;
}) {
  const bargeIns = call.turns.filter((t) => t.interrupted).length;
  return (
    <Layout title={`Call ${call.call_sid}`} section="calls" csrf={csrf}>
      <div class="page-head">
        <h1>
          Call <span class="sub">{call.call_sid}</span>
        </h1>
        <EndBadge call={call} />
      </div>
      <div class="table-wrap">
        <table class="facts">
          <tbody>
            <tr>
              <th scope="row">From → to</th>
              <td>
                {call.from} → <a href={numberPath(call.to)}>{call.to}</a> ({call.display_name})
              </td>
            </tr>
            <tr>
              <th scope="row">Started (UTC)</th>
              <td>
                <time datetime={call.started_at}>{when(call.started_at)}</time>
                {call.duration_seconds !== null && `, ${duration(call.duration_seconds)} long`}
              </td>
            </tr>
            <tr>
              <th scope="row">Mode</th>
              <td>
                {call.mode}
                {call.channel === "web" ? ", a test call from the console" : ", by phone"}
              </td>
            </tr>
            <tr>
              <th scope="row">Configuration</th>
              <td>
                {call.uses_defaults ? (
                  "the defaults (no active configuration for this number)"
                ) : (
                  <a href={numberPath(call.to)}>version {call.config_version}</a>
                )}{" "}
                <span class="sub">from {call.config_source}</span>
              </td>
            </tr>
            <tr>
              <th scope="row">Barge-ins</th>
              <td>{bargeIns}</td>
            </tr>
            {call.recording_sid && (
              <tr>
                <th scope="row">Recording</th>
                <td>
                  {recordingUrl ? <a href={recordingUrl}>{call.recording_sid}</a> : call.recording_sid}
                  <span class="sub"> (kept by Twilio; opening it asks for your Twilio credentials)</span>
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      <h2>Transcript</h2>
      {call.turns.length === 0 ? (
        <p class="hint">No turns yet.</p>
      ) : (
        <ol class="conversation" aria-label="Transcript">
          {call.turns.map((t) => (
            <Turn turn={t} />
          ))}
        </ol>
      )}
      <h2>Latency per turn</h2>
      {call.turns.map((t) => (
        <section aria-label={`Turn ${t.seq} latency`}>
          <h3 class="sub">
            Turn {t.seq} ({t.outcome}
            {t.interrupted ? ", barge-in" : ""})
          </h3>
          <Waterfall turn={t} />
        </section>
      ))}
    </Layout>
  );
}

export function callsPages(): Hono<DashboardEnv> {
  const app = new Hono<DashboardEnv>();

  app.get("/", async (c) => {
    const query = parseCallsQuery(c.req.query());
    const number = readNumberFilter(c.var.services, query.number);
    // A number that does not parse lists nothing rather than every number's calls.
    const calls = number.error ? [] : await recentCalls(c.env, callFilter(query, number.phone));
    return c.html(
      <CallsList calls={calls} query={query} number={number} csrf={c.var.session.csrf} />,
      number.error ? 400 : 200,
    );
  });

  app.get("/:sid", async (c) => {
    const sid = c.req.param("sid");
    if (!/^CA[0-9a-zA-Z]{1,64}$/.test(sid)) throw new AppError("NOT_FOUND", `No call ${sid}`);
    const call = await findCall(c.env, sid);
    if (!call) throw new AppError("NOT_FOUND", `No call ${sid}`);
    const { TWILIO_API_BASE_URL, TWILIO_ACCOUNT_SID } = c.var.services.settings;
    const recordingUrl =
      call.recording_sid && TWILIO_ACCOUNT_SID
        ? `${TWILIO_API_BASE_URL}/2010-04-01/Accounts/${TWILIO_ACCOUNT_SID}/Recordings/${call.recording_sid}.mp3`
        : null;
    return c.html(<CallPage call={call} csrf={c.var.session.csrf} recordingUrl={recordingUrl} />);
  });

  return app;
}
