import { createRoute, z } from "@hono/zod-openapi";
import { findCall, listCalls } from "../call/call-log-reads.ts";
import { UNKNOWN_NUMBER } from "../config/call-routing.ts";
import { normalizePhoneNumber } from "../config/phone-number.ts";
import { AppError } from "../errors.ts";
import { ADMIN_ERRORS, errorResponses, json } from "../http/openapi.ts";
import type { App } from "../http/types.ts";

/** Recent calls and their details: config version, transcripts, per-turn timings, end reason. */

const Timings = z.record(z.string(), z.number());
const ToolCall = z
  .object({
    name: z.string(),
    arguments: z.unknown().openapi({ description: "the model's arguments, secret-like fields redacted" }),
    status: z.enum(["ok", "invalid_arguments", "unknown_tool", "http_error", "timeout", "error"]),
    error: z.string().optional(),
    latency_ms: z.number(),
    result_bytes: z.number().int(),
    target: z.object({ name: z.string(), to: z.string() }).optional(),
    dial_outcome: z.string().optional().openapi({
      description:
        "Twilio's DialCallStatus of a transfer; failed also when Twilio refused to move the call to the <Dial>",
    }),
  })
  .openapi("ToolCallRecord");
const Turn = z.object({
  seq: z.number().int(),
  at: z.string(),
  outcome: z.enum(["reply", "silence", "failed"]),
  transcript: z.string().nullable(),
  reply: z.string().nullable(),
  failed_stage: z.string().optional(),
  timings: Timings,
  interrupted: z.boolean().optional(),
  tools: z.array(ToolCall).optional(),
});
const CallSummarySchema = z
  .object({
    call_sid: z.string(),
    from: z.string(),
    to: z.string(),
    display_name: z.string(),
    config_version: z.number().int(),
    config_source: z.string(),
    uses_defaults: z.boolean(),
    mode: z.enum(["turns", "stream", "realtime"]),
    channel: z.enum(["phone", "web"]).openapi({ description: "web: a test call from the console" }),
    status: z.enum(["in_progress", "ended"]),
    started_at: z.string(),
    ended_at: z.string().nullable(),
    duration_seconds: z.number().nullable(),
    end_reason: z.string().nullable(),
    recording_sid: z.string().nullable().openapi({ description: "Twilio's RecordingSid, when recorded" }),
    turns: z.array(Turn),
    number_rule: z
      .enum(["to", "sip_user", "from_outbound", "client_default"])
      .optional()
      .openapi({ description: "how the call's number was found" }),
    variant: z.string().nullable().optional().openapi({ description: "the A/B variant the call got" }),
    rule: z.string().nullable().optional().openapi({ description: "the caller rule that matched" }),
    after_hours: z
      .boolean()
      .optional()
      .openapi({ description: "the call came outside the schedule's hours" }),
    forwarded_to: z.string().optional(),
    forward_status: z.string().optional().openapi({ description: "Twilio's DialCallStatus of a forward" }),
  })
  .openapi("CallSummary");

const listCallsRoute = createRoute({
  method: "get",
  path: "/calls",
  tags: ["Calls"],
  summary: "Recent calls, newest first",
  security: [{ bearerAuth: [] }],
  request: {
    query: z.object({
      phone_number: z.string().optional().openapi({
        description:
          "only calls to this number; without it, the newest calls of every number (picked from the call index)",
      }),
      limit: z.coerce.number().int().min(1).max(200).default(50),
    }),
  },
  responses: {
    200: json(
      z.object({ success: z.literal(true), total: z.number().int(), calls: z.array(CallSummarySchema) }),
      "Calls",
    ),
    ...errorResponses(...ADMIN_ERRORS),
  },
});

const getCall = createRoute({
  method: "get",
  path: "/calls/{call_sid}",
  tags: ["Calls"],
  summary: "One call, live or ended",
  security: [{ bearerAuth: [] }],
  request: {
    params: z.object({
      call_sid: z.string().regex(/^CA[0-9a-zA-Z]{1,64}$/, "must be a Twilio CallSid (CA...)"),
    }),
  },
  responses: {
    200: json(z.object({ success: z.literal(true), call: CallSummarySchema }), "The call"),
    ...errorResponses(...ADMIN_ERRORS, 404),
  },
});

export function registerCallRoutes(app: App): void {
  app.openapi(listCallsRoute, async (c) => {
    const { phone_number, limit } = c.req.valid("query");
    const phoneNumber = phone_number
      ? shardName(phone_number, c.var.services.settings.DEFAULT_COUNTRY)
      : undefined;
    const calls = await listCalls(c.env, { ...(phoneNumber && { phoneNumber }), limit });
    return c.json({ success: true as const, total: calls.length, calls }, 200);
  });

  app.openapi(getCall, async (c) => {
    const { call_sid } = c.req.valid("param");
    const call = await findCall(c.env, call_sid);
    if (!call) throw new AppError("NOT_FOUND", `No call ${call_sid}`);
    return c.json({ success: true as const, call }, 200);
  });
}

/** The shard a `phone_number` filter names: E.164, or "unknown" (calls no number was found for). */
export function shardName(phone: string, defaultCountry: string): string {
  return phone === UNKNOWN_NUMBER ? phone : normalizePhoneNumber(phone, defaultCountry);
}
