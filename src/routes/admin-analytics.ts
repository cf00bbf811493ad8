import { createRoute, z } from "@hono/zod-openapi";
import { daysBetween, finish, GROUP_BY } from "../call/analytics.ts";
import { queryAnalytics } from "../call/call-log-reads.ts";
import { END_REASONS } from "../call/summary.ts";
import type { E164 } from "../config/phone-number.ts";
import { isTimeZone } from "../config/routing-schema.ts";
import { localMidnight, localTime } from "../config/schedule.ts";
import { AppError } from "../errors.ts";
import { ADMIN_ERRORS, errorResponses, json } from "../http/openapi.ts";
import type { App } from "../http/types.ts";
import { shardName } from "./admin-calls.ts";

/**
 * `GET /admin/analytics`: per-number figures from the stored call summaries of ended calls,
 * grouped by day, variant, caller rule or end reason. One number reads its own shard; without
 * `phone_number`, every shard is read (FAN_OUT at a time) and the groups merged exactly.
 */

const DAY_MS = 86_400_000;
const DEFAULT_DAYS = 30;
const MAX_DAYS = 366;

const instant = z
  .string()
  .refine((v) => /^\d{4}-\d{2}-\d{2}$/.test(v) || z.iso.datetime({ offset: true }).safeParse(v).success, {
    message: "must be a date (YYYY-MM-DD) or an ISO 8601 date-time",
  });

const Query = z.object({
  phone_number: z.string().optional().openapi({ description: "one number; omit for every number" }),
  from: instant.optional().openapi({
    description: "start: a local date (from its midnight) or a date-time; default 30 days before `to`",
    example: "2026-11-01",
  }),
  to: instant.optional().openapi({
    description: "end: a local date (inclusive, to its end) or a date-time (exclusive); default now",
    example: "2026-11-30",
  }),
  group_by: z.enum(GROUP_BY).default("day"),
  timezone: z
    .string()
    .refine(isTimeZone, "must be an IANA time zone such as Europe/London")
    .default("UTC")
    .openapi({ description: "the zone whose days `day` groups by and dates are read in" }),
  fill: z
    .enum(["true", "false", "1", "0"])
    .optional()
    .transform((v) => v === "true" || v === "1")
    .openapi({ description: "include groups with no calls, zero-filled" }),
});

const Group = z
  .object({
    key: z.string().nullable().openapi({ description: "day, variant, rule or end reason; null: none" }),
    calls: z.number().int(),
    duration_seconds: z.object({ total: z.number(), mean: z.number().nullable() }),
    mean_turns: z.number().nullable(),
    end_reasons: z.record(z.string(), z.number().int()),
    barge_ins: z.number().int(),
    provider_failures: z.number().int(),
    turn_latency_ms: z.object({
      turns: z.number().int(),
      p50: z.number().nullable(),
      p90: z.number().nullable(),
    }),
  })
  .openapi("AnalyticsGroup");

const analytics = createRoute({
  method: "get",
  path: "/analytics",
  tags: ["Calls"],
  summary: "Call analytics from stored summaries, grouped by day, variant, rule or end reason",
  security: [{ bearerAuth: [] }],
  request: { query: Query },
  responses: {
    200: json(
      z.object({
        success: z.literal(true),
        phone_number: z.string().nullable(),
        from: z.string(),
        to: z.string(),
        timezone: z.string(),
        group_by: z.enum(GROUP_BY),
        shards: z.number().int().openapi({ description: "call logs read" }),
        groups: z.array(Group),
      }),
      "The groups, ordered by key",
    ),
    ...errorResponses(...ADMIN_ERRORS),
  },
});

/** A query bound as an instant: a date is its local midnight, plus a day for an inclusive end. */
function bound(value: string, timeZone: string, end: boolean): Date {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return new Date(value);
  const midnight = localMidnight(value, timeZone);
  if (!end) return midnight;
  const next = new Date(Date.parse(`${value}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);
  return localMidnight(next, timeZone);
}

export function registerAnalyticsRoutes(app: App): void {
  app.openapi(analytics, async (c) => {
    const q = c.req.valid("query");
    const { services } = c.var;
    const to = q.to ? bound(q.to, q.timezone, true) : new Date();
    const from = q.from ? bound(q.from, q.timezone, false) : new Date(to.getTime() - DEFAULT_DAYS * DAY_MS);
    if (!(from < to) || to.getTime() - from.getTime() > MAX_DAYS * DAY_MS + DAY_MS) {
      throw new AppError("VALIDATION_ERROR", `from must be before to, at most ${MAX_DAYS} days apart`, {
        details: [
          { field: "from", rule: "range", message: `from must be before to, at most ${MAX_DAYS} days apart` },
        ],
      });
    }
    const phone = q.phone_number ? shardName(q.phone_number, services.settings.DEFAULT_COUNTRY) : null;
    const range = {
      groupBy: q.group_by,
      timezone: q.timezone,
      from: from.toISOString(),
      to: to.toISOString(),
    };
    const { groups: merged, shards } = await queryAnalytics(c.env, phone, range);

    let fillKeys: (string | null)[] | null = null;
    if (q.fill) {
      if (q.group_by === "day") {
        const last = localTime(new Date(to.getTime() - 1), q.timezone).date;
        fillKeys = daysBetween(localTime(from, q.timezone).date, last);
      } else if (q.group_by === "end_reason") {
        fillKeys = [...END_REASONS];
      } else {
        // The number's own variants or rules as configured now, and "none".
        const config = phone ? await services.store.get(phone as E164) : null;
        const names =
          q.group_by === "variant"
            ? (config?.variants ?? []).map((v) => v.name)
            : (config?.caller_rules ?? []).map((r) => r.name);
        fillKeys = [...names, null];
      }
    }
    const groups = finish(merged, fillKeys);
    return c.json(
      {
        success: true as const,
        phone_number: phone,
        from: range.from,
        to: range.to,
        timezone: q.timezone,
        group_by: q.group_by,
        shards,
        groups,
      },
      200,
    );
  });
}
