import { Hono } from "hono";
import { type Analytics, analyticsFor } from "./analytics-data.ts";
import { Layout } from "./layout.tsx";
import { NumberField, type NumberFilter, readNumberFilter } from "./number-filter.tsx";
import type { DashboardEnv } from "./types.ts";

/**
 * Analytics per number or across numbers, from the API's own figures (src/call/analytics.ts):
 * calls and minutes per day, end reasons, p50/p90 per-turn latency over time, and variants where calls carry one. Charts are Chart.js
 * (pinned in package.json, served from assets/vendor) drawn by assets/console/charts.js from
 * the JSON block on the page; each chart has its figures in a table too.
 */

const DEFAULT_DAYS = 14;

const isDate = (v: string | undefined): v is string => typeof v === "string" && /^\d{4}-\d{2}-\d{2}$/.test(v);
const today = () => new Date().toISOString().slice(0, 10);
const daysBefore = (day: string, n: number) =>
  new Date(Date.parse(`${day}T00:00:00Z`) - n * 86_400_000).toISOString().slice(0, 10);
const ms = (v: number | null) => (v === null ? "–" : `${Math.round(v)} ms`);

/** The totals, the charts' data block and canvases, and the tables of one analytics answer. */
function Figures({ data }: { data: Analytics }) {
  return (
    <>
      <ul class="stats" aria-label="Totals">
        <li>
          <strong data-total="calls">{data.totals.calls}</strong> calls
        </li>
        <li>
          <strong data-total="minutes">{data.totals.minutes}</strong> minutes
        </li>
        <li>
          <strong>{data.totals.turns}</strong> turns
        </li>
        <li>
          <strong>{ms(data.totals.p50_ms)}</strong> p50 turn latency
        </li>
        <li>
          <strong>{ms(data.totals.p90_ms)}</strong> p90 turn latency
        </li>
      </ul>
      {/* Not executed (a data block), so the CSP needs no exception; `<` escaped so it cannot end the element. */}
      <script
        type="application/json"
        id="analytics-data"
        dangerouslySetInnerHTML={{ __html: JSON.stringify(data).replace(/</g, "\\u003c") }}
      />
      <h2 id="calls-per-day">Calls per day</h2>
      <div class="chart">
        <canvas id="chart-calls" role="img" aria-labelledby="calls-per-day" />
      </div>
      <h2 id="minutes-per-day">Minutes per day</h2>
      <div class="chart">
        <canvas id="chart-minutes" role="img" aria-labelledby="minutes-per-day" />
      </div>
      <h2 id="latency">Turn latency (p50, p90)</h2>
      <div class="chart">
        <canvas id="chart-latency" role="img" aria-labelledby="latency" />
      </div>
      <h2 id="end-reasons">End reasons</h2>
      <div class="chart">
        <canvas id="chart-reasons" role="img" aria-labelledby="end-reasons" />
      </div>
      <div class="table-wrap">
        <table>
          <caption class="sub">End reasons</caption>
          <thead>
            <tr>
              <th scope="col">Reason</th>
              <th scope="col">Calls</th>
            </tr>
          </thead>
          <tbody>
            {data.end_reasons.map((r) => (
              <tr>
                <td>{r.reason}</td>
                <td>{r.calls}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {data.variants.length > 0 && (
        <>
          <h2>Variants</h2>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Variant</th>
                  <th scope="col">Calls</th>
                  <th scope="col">Minutes</th>
                  <th scope="col">p50 turn latency</th>
                </tr>
              </thead>
              <tbody>
                {data.variants.map((v) => (
                  <tr>
                    <td>{v.variant}</td>
                    <td>{v.calls}</td>
                    <td>{v.minutes}</td>
                    <td>{ms(v.p50_ms)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
      <details>
        <summary>Figures per day</summary>
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Day</th>
                <th scope="col">Calls</th>
                <th scope="col">Minutes</th>
                <th scope="col">p50</th>
                <th scope="col">p90</th>
              </tr>
            </thead>
            <tbody>
              {data.days.map((d) => (
                <tr>
                  <td>{d.day}</td>
                  <td>{d.calls}</td>
                  <td>{d.minutes}</td>
                  <td>{ms(d.p50_ms)}</td>
                  <td>{ms(d.p90_ms)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </>
  );
}

function AnalyticsPage({
  data,
  number,
  from,
  to,
  csrf,
}: {
  /** null: the Number filter does not parse, so no figures are shown (not every number's) */
  data: Analytics | null;
  number: NumberFilter;
  from: string;
  to: string;
  csrf: string;
}) {
  return (
    <Layout
      title="Analytics"
      section="analytics"
      csrf={csrf}
      scripts={data ? ["/vendor/chart.js/chart.umd.min.js", "/console/charts.js"] : []}
    >
      <h1>Analytics {number.phone && <span class="sub">{number.phone}</span>}</h1>
      <form method="get" action="/dashboard/analytics" class="filters">
        <NumberField filter={number} placeholder="all numbers" />
        <div class="field">
          <label for="from">From</label>
          <input id="from" name="from" type="date" value={from} />
        </div>
        <div class="field">
          <label for="to">To</label>
          <input id="to" name="to" type="date" value={to} />
        </div>
        <button type="submit">Show</button>
      </form>
      {data ? (
        <Figures data={data} />
      ) : (
        <p class="sub" id="no-figures">
          No figures until the Number filter is a phone number.
        </p>
      )}
    </Layout>
  );
}

export function analyticsPages(): Hono<DashboardEnv> {
  const app = new Hono<DashboardEnv>();
  app.get("/", async (c) => {
    const q = c.req.query();
    const to = isDate(q.to) ? q.to : today();
    const from = isDate(q.from) && q.from <= to ? q.from : daysBefore(to, DEFAULT_DAYS - 1);
    const number = readNumberFilter(c.var.services, q.number);
    // A Number that does not parse shows no figures: every number's would look like its own.
    const data = number.error ? null : await analyticsFor(c.env, number.phone ?? null, from, to);
    return c.html(
      <AnalyticsPage data={data} number={number} from={from} to={to} csrf={c.var.session.csrf} />,
      number.error ? 400 : 200,
    );
  });
  return app;
}
