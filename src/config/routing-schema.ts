import { z } from "@hono/zod-openapi";
import { isSupportedCountry, parsePhoneNumberFromString } from "libphonenumber-js/min";

/**
 * The routing fields of a phone config (`variants`, `schedule`, `caller_rules`) as zod schemas.
 * Built from the partial-settings schema schema.ts passes in, so this module never imports
 * schema.ts (no cycle) and a field added there (issue 11's `tools`) is routable at once.
 * Cross-layer checks (the merged result of every layer combination) live in routing-check.ts.
 */

export const MAX_VARIANTS = 5;
export const MAX_CALLER_RULES = 20;
export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const name = z
  .string()
  .trim()
  .min(1)
  .max(40)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9 _.-]*$/,
    "must start with a letter or digit and use only letters, digits, space, _ . -",
  );

/** `+` then 8 to 15 digits, and a number libphonenumber calls possible. */
const e164 = z
  .string()
  .regex(/^\+[1-9]\d{6,14}$/, "must be an E.164 number such as +14155550100")
  .refine((v) => parsePhoneNumberFromString(v)?.isPossible() === true, "is not a possible phone number");

const hhmm = z.string().regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/, "must be HH:MM between 00:00 and 24:00");

const calendarDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date YYYY-MM-DD")
  .refine((v) => new Date(`${v}T00:00:00Z`).toISOString().startsWith(v), "is not a calendar date");

/** Accepted by the runtime's Intl (the IANA database workerd ships). */
export function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: value });
    return value.includes("/") || value === "UTC";
  } catch {
    return false;
  }
}

const timezone = z
  .string()
  .min(1)
  .max(64)
  .refine(isTimeZone, "must be an IANA time zone such as Europe/London or America/New_York");

function uniqueNames(items: { name: string }[], ctx: z.RefinementCtx, what: string): void {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    if (seen.has(item.name)) {
      ctx.addIssue({
        code: "custom",
        path: [i, "name"],
        message: `${what} name "${item.name}" is used twice`,
      });
    }
    seen.add(item.name);
  });
}

/**
 * The three routing fields, each validating its own shape; `partialSettings` is the strict,
 * all-optional schema of the conversation fields a layer may override.
 */
export function routingFields<S extends z.ZodType>(partialSettings: S) {
  const variant = z.strictObject({
    name,
    weight: z.number().int().min(0).max(100).openapi({ description: "share of calls, percent" }),
    settings: partialSettings,
  });

  const variants = z
    .array(variant)
    .max(MAX_VARIANTS)
    .superRefine((list, ctx) => {
      uniqueNames(list, ctx, "variant");
      const total = list.reduce((sum, v) => sum + v.weight, 0);
      if (list.length > 0 && total !== 100) {
        ctx.addIssue({ code: "custom", path: [], message: `weights must sum to 100 (they sum to ${total})` });
      }
    })
    .openapi({
      description: `up to ${MAX_VARIANTS} A/B variants; the call's CallSid picks one by a stable hash, by weight`,
    });

  const window = z
    .strictObject({
      days: z.array(z.enum(WEEKDAYS)).min(1).max(7),
      open: hhmm,
      close: hhmm,
    })
    .refine((w) => w.open !== w.close, { path: ["close"], message: "must differ from open" })
    .openapi({
      description:
        "open on these days from `open` to `close`, local time; a close before open runs past midnight",
    });

  const afterHours = z.union(
    [
      z.strictObject({ settings: partialSettings }),
      z.strictObject({ action: z.literal("forward"), to: e164 }),
    ],
    {
      error: (issue) =>
        `${issue.input === undefined ? "is required" : "is neither form"}: { "settings": { ... } } answers with other settings, { "action": "forward", "to": "+E.164" } forwards the call`,
    },
  );

  const schedule = z
    .strictObject({
      timezone,
      hours: z.array(window).min(1).max(50),
      closed_dates: z.array(calendarDate).max(366).default([]),
      after_hours: afterHours,
    })
    .nullable()
    .openapi({
      description: "business hours; outside them `after_hours` applies. null removes the schedule",
    });

  const match = z
    .strictObject({
      countries: z
        .array(
          z
            .string()
            .regex(/^[A-Z]{2}$/, "must be an ISO 3166 alpha-2 code such as GB")
            .refine((c) => isSupportedCountry(c), "is not a country with a telephone numbering plan"),
        )
        .min(1)
        .max(250)
        .optional(),
      prefixes: z
        .array(z.string().regex(/^\+\d{1,14}$/, "must be + and digits, such as +4420"))
        .min(1)
        .max(100)
        .optional(),
      numbers: z.array(e164).min(1).max(1000).optional(),
      anonymous: z.literal(true).optional(),
    })
    .refine((m) => Object.values(m).some((v) => v !== undefined), {
      message: "must have at least one of countries, prefixes, numbers, anonymous",
    });

  const rule = z
    .strictObject({
      name,
      match,
      action: z.enum(["answer", "reject", "forward"]),
      settings: partialSettings.optional(),
      to: e164.optional(),
    })
    .superRefine((r, ctx) => {
      if (r.action === "forward" && r.to === undefined)
        ctx.addIssue({ code: "custom", path: ["to"], message: "is required when action is forward" });
      if (r.action !== "forward" && r.to !== undefined)
        ctx.addIssue({ code: "custom", path: ["to"], message: "is only allowed when action is forward" });
      if (r.action !== "answer" && r.settings !== undefined)
        ctx.addIssue({
          code: "custom",
          path: ["settings"],
          message: "is only allowed when action is answer",
        });
    });

  const callerRules = z
    .array(rule)
    .max(MAX_CALLER_RULES)
    .superRefine((list, ctx) => uniqueNames(list, ctx, "caller rule"))
    .openapi({
      description: `up to ${MAX_CALLER_RULES} rules on the caller's number, in order; the first match wins`,
    });

  return { variants, schedule, caller_rules: callerRules };
}
