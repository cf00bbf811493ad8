import { createRoute, z } from "@hono/zod-openapi";
import { decideCall } from "../config/call-routing.ts";
import { normalizePhoneNumber } from "../config/phone-number.ts";
import { PhoneConfigSchema } from "../config/schema.ts";
import { limitBody, requireJson } from "../http/admin-openapi.ts";
import { ADMIN_ERRORS, errorResponses, json } from "../http/openapi.ts";
import type { App } from "../http/types.ts";

/**
 * `POST /admin/phone-config/{n}/preview`: who a caller would meet, without placing a call. It
 * runs `decideCall`, the very function the voice webhook runs, so it cannot disagree with one.
 */

const PreviewBody = z
  .strictObject({
    from: z.string().max(200).openapi({
      description: "the caller as Twilio sends From: E.164, anonymous, a sip: URI",
      example: "+447400123456",
    }),
    at: z.iso
      .datetime({ offset: true })
      .optional()
      .openapi({ description: "when the call happens (default: now)", example: "2026-03-09T13:30:00Z" }),
    call_sid: z
      .string()
      .regex(/^CA[0-9a-zA-Z]{1,64}$/, "must be a Twilio CallSid (CA...)")
      .optional()
      .openapi({ description: "picks the variant as this call's would be (default: a random one)" }),
  })
  .openapi("PreviewRequest");

const Action = z
  .object({ type: z.enum(["answer", "reject", "forward"]), to: z.string().optional() })
  .openapi("RoutingAction");

export const PreviewResponse = z
  .object({
    success: z.literal(true),
    call_sid: z.string(),
    at: z.string(),
    effective: PhoneConfigSchema.extend({ uses_defaults: z.boolean() }),
    variant: z.string().nullable(),
    rule: z.string().nullable(),
    after_hours: z.boolean(),
    action: Action,
  })
  .openapi("PreviewResponse");

const preview = createRoute({
  method: "post",
  path: "/phone-config/{phone_number}/preview",
  tags: ["Phone configuration"],
  summary: "Preview routing: the config, variant, caller rule and action a call would get",
  security: [{ bearerAuth: [] }],
  middleware: [requireJson, limitBody] as const,
  request: {
    params: z.object({
      phone_number: z
        .string()
        .openapi({ param: { name: "phone_number", in: "path" }, example: "+18668134984" }),
    }),
    body: { ...json(PreviewBody, "The call to preview"), required: true },
  },
  responses: {
    200: json(PreviewResponse, "What the call would get (an unknown or inactive number: the defaults)"),
    ...errorResponses(...ADMIN_ERRORS, 413, 415),
  },
});

function randomCallSid(): string {
  return `CA${crypto.randomUUID().replace(/-/g, "")}`;
}

export function registerRoutingRoutes(app: App): void {
  app.openapi(preview, async (c) => {
    const { services } = c.var;
    const phone = normalizePhoneNumber(c.req.valid("param").phone_number, services.settings.DEFAULT_COUNTRY);
    const body = c.req.valid("json");
    const callSid = body.call_sid ?? randomCallSid();
    const at = body.at ? new Date(body.at) : new Date();
    const { routing } = await decideCall(
      services,
      { phone, rule: "to", caller: body.from },
      { callSid, at },
      { preview: true },
    );
    return c.json(
      {
        success: true as const,
        call_sid: callSid,
        at: at.toISOString(),
        effective: routing.effective,
        variant: routing.variant,
        rule: routing.rule,
        after_hours: routing.after_hours,
        action: routing.action,
      },
      200,
    );
  });
}
