import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import { toolDefinitions } from "../../src/conversation/tools/index.ts";
import { admin, sampleBody, uniquePhone } from "../support/admin.ts";
import { testEnv } from "../support/env.ts";

/**
 * A number's `tools` through the admin API: every rule a bad tool config breaks is a 400 whose
 * details name the tool and the rule, and nothing is written; good configs are stored
 * normalised and produce the function definitions the model sees.
 */

const webhook = (extra: Record<string, unknown> = {}) => ({
  type: "webhook",
  name: "lookup_order",
  description: "Look up an order.",
  url: "https://orders.example.com/lookup",
  parameters: { type: "object", properties: { order_id: { type: "string" } }, required: ["order_id"] },
  ...extra,
});
const transfer = (extra: Record<string, unknown> = {}) => ({
  type: "transfer",
  targets: [{ name: "Sales", to: "+14155550123" }],
  ...extra,
});

async function create(tools: unknown[]) {
  const phone = uniquePhone();
  const res = await admin("POST", "/admin/phone-config", { body: sampleBody(phone, { tools }) });
  return { phone, ...res };
}

describe("tools in a number's configuration", () => {
  it.each([
    [
      "more than 10 tools",
      Array.from({ length: 11 }, (_, i) => webhook({ name: `tool_${i}` })),
      "tools",
      "too_big",
      /at most 10 tools/,
    ],
    [
      "a name outside ^[A-Za-z0-9_-]{1,64}$",
      [webhook({ name: "look up!" })],
      "tools.0.name",
      "invalid_format",
      /tools\[0\] \(webhook "look up!"\) name/,
    ],
    [
      "a name longer than 64",
      [webhook({ name: "x".repeat(65) })],
      "tools.0.name",
      "invalid_format",
      /tools\[0\]/,
    ],
    [
      "two tools with one name",
      [webhook(), webhook({ url: "https://other.example.com/x" })],
      "tools.1.name",
      "unique",
      /tools\[1\] \(webhook "lookup_order"\).*already used by tools\[0\]/,
    ],
    [
      "a webhook named like a built-in tool",
      [{ type: "end_call" }, webhook({ name: "end_call" })],
      "tools.1.name",
      "reserved",
      /tools\[1\] \(webhook "end_call"\) name: "end_call" is reserved/,
    ],
    [
      "a webhook named transfer_call with no transfer tool",
      [webhook({ name: "transfer_call" })],
      "tools.0.name",
      "reserved",
      /tools\[0\] \(webhook "transfer_call"\) name: "transfer_call" is reserved for the built-in transfer tool/,
    ],
    [
      "a webhook named END_CALL (any case) with no end_call tool",
      [webhook({ name: "END_CALL" })],
      "tools.0.name",
      "reserved",
      /"END_CALL" is reserved for the built-in end_call tool/,
    ],
    [
      "two transfer tools",
      [transfer(), transfer()],
      "tools.1.type",
      "unique",
      /"transfer_call" is already used/,
    ],
    [
      "a transfer without targets",
      [transfer({ targets: [] })],
      "tools.0.targets",
      "too_small",
      /tools\[0\] \(transfer "transfer_call"\) targets: a transfer needs at least one target/,
    ],
    [
      "a target that is neither a number nor a sip: URI",
      [transfer({ targets: [{ name: "Sales", to: "sales desk" }] })],
      "tools.0.targets.0.to",
      "e164_or_sip",
      /phone number .* or a sip: URI/,
    ],
    [
      "two targets with one name",
      [
        transfer({
          targets: [
            { name: "Sales", to: "+14155550123" },
            { name: "sales", to: "+14155550124" },
          ],
        }),
      ],
      "tools.0.targets.1.name",
      "unique",
      /used twice/,
    ],
    [
      "parameters that are not an object schema",
      [webhook({ parameters: { type: "string" } })],
      "tools.0.parameters",
      "object_schema",
      /tools\[0\] \(webhook "lookup_order"\) parameters: must be a JSON Schema with "type": "object"/,
    ],
    [
      "parameters with an unknown JSON type",
      [webhook({ parameters: { type: "object", properties: { n: { type: "float" } } } })],
      "tools.0.parameters",
      "json_schema",
      /parameters.properties.n.type "float" is not a JSON type/,
    ],
    [
      "parameters with a broken pattern",
      [webhook({ parameters: { type: "object", properties: { n: { type: "string", pattern: "(" } } } })],
      "tools.0.parameters",
      "json_schema",
      /pattern is not a valid regular expression/,
    ],
    [
      "a URL that is not http(s)",
      [webhook({ url: "ftp://orders.example.com/x" })],
      "tools.0.url",
      "invalid_format",
      /url: must be an absolute http\(s\) URL/,
    ],
    [
      "timeout_ms over 10,000",
      [webhook({ timeout_ms: 10_001 })],
      "tools.0.timeout_ms",
      "too_big",
      /timeout_ms/,
    ],
    [
      "a webhook without a description",
      [webhook({ description: undefined })],
      "tools.0.description",
      "invalid_type",
      /tools\[0\] \(webhook "lookup_order"\) description/,
    ],
    [
      "an unknown kind",
      [{ type: "sms", to: "+14155550123" }],
      "tools.0.type",
      "invalid_union",
      /tools\[0\] \(sms\)/,
    ],
    ["an unknown field on a tool", [webhook({ retries: 3 })], "tools.0.retries", "unknown_field", /retries/],
  ])(
    "refuses %s with a 400 naming the tool and the rule, writing nothing",
    async (_what, tools, field, rule, message) => {
      const { phone, status, json } = await create(tools);
      expect(status, JSON.stringify(json)).toBe(400);
      expect(json.error.code).toBe("VALIDATION_ERROR");
      const detail = json.error.details.find((d: { field: string }) => d.field === field);
      expect(detail, JSON.stringify(json.error.details)).toMatchObject({ rule });
      expect(`${detail.message} ${json.error.message}`).toMatch(message);
      expect((await admin("GET", `/admin/phone-config/${phone}`)).status).toBe(404);
    },
  );

  it("refuses a plain-http webhook URL outside development, naming the tool and the https rule", async () => {
    const env = { ...testEnv, ENVIRONMENT: "production" };
    const ctx = createExecutionContext();
    const res = await createApp().fetch(
      new Request("http://localhost/admin/phone-config", {
        method: "POST",
        headers: { Authorization: `Bearer ${testEnv.ADMIN_API_KEY}`, "Content-Type": "application/json" },
        body: JSON.stringify(
          sampleBody(uniquePhone(), { tools: [webhook({ url: "http://orders.example.com/x" })] }),
        ),
      }),
      env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    const json = (await res.json()) as {
      error: { details: Array<{ field: string; rule: string; message: string }> };
    };
    expect(res.status).toBe(400);
    expect(json.error.details).toEqual([
      {
        field: "tools.0.url",
        rule: "https",
        message: 'tools[0] (webhook "lookup_order"): url must use https outside ENVIRONMENT=development',
      },
    ]);
  });

  describe("tools inside routing overrides, in production", () => {
    const env = { ...testEnv, ENVIRONMENT: "production" };
    async function send(method: "POST" | "PUT", path: string, body: unknown) {
      const ctx = createExecutionContext();
      const res = await createApp().fetch(
        new Request(`http://localhost${path}`, {
          method,
          headers: { Authorization: `Bearer ${testEnv.ADMIN_API_KEY}`, "Content-Type": "application/json" },
          body: JSON.stringify(body),
        }),
        env,
        ctx,
      );
      await waitOnExecutionContext(ctx);
      return {
        status: res.status,
        json: (await res.json()) as {
          error: { message: string; details: Array<{ field: string; rule: string; message: string }> };
        },
      };
    }
    const variants = (tools: unknown[]) => [
      { name: "a", weight: 50, settings: {} },
      { name: "b", weight: 50, settings: { tools } },
    ];
    const schedule = (tools: unknown[]) => ({
      timezone: "Europe/London",
      hours: [{ days: ["mon"], open: "09:00", close: "17:00" }],
      after_hours: { settings: { tools } },
    });
    const callerRules = (tools: unknown[]) => [
      { name: "uk", match: { countries: ["GB"] }, action: "answer", settings: { tools } },
    ];

    it.each([
      [
        "POST, a variant's http webhook",
        { variants: variants([webhook({ url: "http://orders.example.com/x" })]) },
        "variants.1.settings.tools.0.url",
        "https",
        /variant "b": tools\[0\] \(webhook "lookup_order"\): url must use https/,
      ],
      [
        "POST, after-hours transfer target that is no phone number",
        { schedule: schedule([transfer({ targets: [{ name: "Night", to: "12" }] })]) },
        "schedule.after_hours.settings.tools.0.targets.0.to",
        "e164_or_sip",
        /after hours: tools\[0\] \(transfer "transfer_call"\): target "Night" to is not a possible/,
      ],
      [
        "POST, a caller rule's http webhook",
        { caller_rules: callerRules([webhook({ url: "http://orders.example.com/x" })]) },
        "caller_rules.0.settings.tools.0.url",
        "https",
        /caller rule "uk": tools\[0\]/,
      ],
    ])("refuses %s, naming the path and the rule", async (_, routing, field, rule, message) => {
      const phone = uniquePhone();
      const { status, json } = await send("POST", "/admin/phone-config", sampleBody(phone, routing));
      expect(status, JSON.stringify(json)).toBe(400);
      expect(json.error.details).toEqual([{ field, rule, message: expect.stringMatching(message) }]);
      expect((await admin("GET", `/admin/phone-config/${phone}`)).status).toBe(404);
    });

    it("refuses a PUT whose variant has an http webhook, and keeps the stored config", async () => {
      const phone = uniquePhone();
      expect((await send("POST", "/admin/phone-config", sampleBody(phone))).status).toBe(201);
      const { status, json } = await send("PUT", `/admin/phone-config/${phone}`, {
        variants: variants([webhook({ url: "http://orders.example.com/x" })]),
      });
      expect(status, JSON.stringify(json)).toBe(400);
      expect(json.error.details).toEqual([
        {
          field: "variants.1.settings.tools.0.url",
          rule: "https",
          message:
            'variant "b": tools[0] (webhook "lookup_order"): url must use https outside ENVIRONMENT=development',
        },
      ]);
      expect((await admin("GET", `/admin/phone-config/${phone}`)).json.config.variants ?? []).toEqual([]);
    });

    it("refuses a PUT whose caller rule has an invalid caller_id, and stores override targets as E.164", async () => {
      const phone = uniquePhone();
      expect((await send("POST", "/admin/phone-config", sampleBody(phone))).status).toBe(201);
      const bad = await send("PUT", `/admin/phone-config/${phone}`, {
        caller_rules: callerRules([
          transfer({ targets: [{ name: "Sales", to: "+14155550123", caller_id: "1" }] }),
        ]),
      });
      expect(bad.status, JSON.stringify(bad.json)).toBe(400);
      expect(bad.json.error.details).toMatchObject([
        { field: "caller_rules.0.settings.tools.0.targets.0.caller_id", rule: "e164" },
      ]);
      const good = await send("PUT", `/admin/phone-config/${phone}`, {
        variants: variants([transfer({ targets: [{ name: "Sales", to: "(415) 555-0123" }] })]),
      });
      expect(good.status, JSON.stringify(good.json)).toBe(200);
      const stored = (await admin("GET", `/admin/phone-config/${phone}`)).json.config;
      expect(stored.variants[1].settings.tools[0].targets[0].to).toBe("+14155550123");
      expect(stored.caller_rules ?? []).toEqual([]);
    });
  });

  it("checks tools after a PUT's merge too", async () => {
    const { phone } = await create([]);
    const res = await admin("PUT", `/admin/phone-config/${phone}`, {
      body: { tools: [transfer({ targets: [] })] },
    });
    expect(res.status).toBe(400);
    expect(res.json.error.details[0]).toMatchObject({ field: "tools.0.targets", rule: "too_small" });
    expect((await admin("GET", `/admin/phone-config/${phone}`)).json.config.tools).toEqual([]);
  });

  it("stores targets as E.164 and gives the model one function per tool", async () => {
    const tools = [
      transfer({
        targets: [
          { name: "Sales", to: "(415) 555-0123", description: "new orders", caller_id: "415.555.0100" },
        ],
      }),
      { type: "end_call" },
      webhook({ timeout_ms: 2500 }),
    ];
    const { status, json } = await create(tools);
    expect(status).toBe(201);
    expect(json.config.tools[0].targets[0]).toEqual({
      name: "Sales",
      to: "+14155550123",
      description: "new orders",
      caller_id: "+14155550100",
    });
    expect(toolDefinitions(json.config.tools)).toEqual([
      {
        name: "transfer_call",
        description: expect.stringContaining('"Sales" (new orders)'),
        parameters: {
          type: "object",
          properties: { target: expect.objectContaining({ type: "string", enum: ["Sales"] }) },
          required: ["target"],
          additionalProperties: false,
        },
      },
      expect.objectContaining({ name: "end_call", parameters: expect.objectContaining({ type: "object" }) }),
      { name: "lookup_order", description: "Look up an order.", parameters: webhook().parameters },
    ]);
  });

  it("documents the tool kinds in /openapi.json", async () => {
    const spec = await admin("GET", "/openapi.json", { key: null });
    const schemas = spec.json.components.schemas;
    expect(Object.keys(schemas)).toEqual(
      expect.arrayContaining(["TransferTool", "EndCallTool", "WebhookTool"]),
    );
    expect(schemas.WebhookTool.properties.timeout_ms.maximum).toBe(10_000);
    expect(JSON.stringify(schemas.PhoneConfig)).toContain("WebhookTool");
  });
});
