import { describe, expect, it } from "vitest";
import { sampleBody, uniquePhone } from "../support/admin.ts";
import { adminClient, envFor, STORE_BACKENDS } from "../support/store-envs.ts";

/** An import's answer's plan, by number. */
const planOf = (json: { plan: { phone_number: string }[] }) =>
  Object.fromEntries(json.plan.map((p) => [p.phone_number, p]));

describe.each(STORE_BACKENDS)("export and import, %s store", (backend) => {
  it("exports every number and user template, and imports the same shape: plan, dry run, prune", async () => {
    const admin = adminClient(await envFor(backend));
    const [kept, changed, removed, added] = [uniquePhone(), uniquePhone(), uniquePhone(), uniquePhone()];
    for (const phone of [kept, changed, removed]) {
      expect((await admin("POST", "/admin/phone-config", { body: sampleBody(phone) })).status).toBe(201);
    }
    await admin("DELETE", `/admin/phone-config/${removed}`);
    const template = `t-${crypto.randomUUID().slice(0, 8)}`;
    await admin("POST", "/admin/templates", { body: { name: template, settings: { max_tokens: 80 } } });

    const exported = await admin("GET", "/admin/phone-configs/export");
    expect(exported.status).toBe(200);
    const mine = exported.json.configs.filter((c: { phone_number: string }) =>
      [kept, changed, removed].includes(c.phone_number),
    );
    expect(mine).toHaveLength(3);
    for (const config of mine) {
      expect(Object.keys(config)).not.toEqual(expect.arrayContaining(["version"]));
      expect(config).not.toHaveProperty("created_at");
    }
    expect(exported.json.templates).toContainEqual({
      name: template,
      description: "",
      settings: { max_tokens: 80 },
    });

    // The file: one number edited, one added, `removed` left out; the rest as exported.
    const file = {
      configs: [
        ...mine
          .filter((c: { phone_number: string }) => c.phone_number !== removed)
          .map((c: { phone_number: string }) =>
            c.phone_number === changed ? { ...c, greeting: "Imported." } : c,
          ),
        sampleBody(added),
      ],
      templates: exported.json.templates,
    };

    const dry = await admin("POST", "/admin/phone-configs/import?dry_run=true", { body: file });
    expect(dry.status).toBe(200);
    expect(planOf(dry.json)[kept]).toEqual({ phone_number: kept, action: "unchanged" });
    expect(planOf(dry.json)[changed]).toEqual({
      phone_number: changed,
      action: "updated",
      changed_fields: ["greeting"],
    });
    expect(planOf(dry.json)[added]).toEqual({ phone_number: added, action: "created" });
    expect((await admin("GET", `/admin/phone-config/${added}`)).status).toBe(404);
    expect((await admin("GET", `/admin/phone-config/${changed}`)).json.config.version).toBe(1);

    const applied = await admin("POST", "/admin/phone-configs/import", {
      body: file,
      headers: { "X-Change-Reason": "from git" },
    });
    expect(applied.status).toBe(200);
    expect(planOf(applied.json)).toEqual(planOf(dry.json));
    expect((await admin("GET", `/admin/phone-config/${changed}`)).json.config).toMatchObject({
      greeting: "Imported.",
      version: 2,
    });
    // Same content: no new version.
    expect((await admin("GET", `/admin/phone-config/${kept}`)).json.config.version).toBe(1);
    expect((await admin("GET", `/admin/phone-config/${added}`)).json.config.version).toBe(1);
    const v2 = await admin("GET", `/admin/phone-config/${changed}/versions/2`);
    expect(v2.json.version).toMatchObject({ actor: "alice", reason: "from git" });

    // prune: an active number the file does not hold is deactivated (others' numbers too, so
    // the file here is the whole export plus the edits).
    await admin("PUT", `/admin/phone-config/${removed}`, { body: { is_active: true } });
    const everything = (await admin("GET", "/admin/phone-configs/export")).json;
    const withoutRemoved = {
      configs: everything.configs.filter((c: { phone_number: string }) => c.phone_number !== removed),
      templates: [],
    };
    const pruned = await admin("POST", "/admin/phone-configs/import?prune=true", { body: withoutRemoved });
    expect(pruned.status).toBe(200);
    expect(planOf(pruned.json)[removed]).toEqual({ phone_number: removed, action: "deactivated" });
    expect((await admin("GET", `/admin/phone-config/${removed}`)).json.config.is_active).toBe(false);
  });

  it("refuses prune with a file of no numbers, which would deactivate them all; its dry run shows that plan", async () => {
    const admin = adminClient(await envFor(backend));
    const phone = uniquePhone();
    expect((await admin("POST", "/admin/phone-config", { body: sampleBody(phone) })).status).toBe(201);
    const empty = { configs: [], templates: [] };
    const refused = await admin("POST", "/admin/phone-configs/import?prune=true", { body: empty });
    expect(refused.status).toBe(400);
    expect(refused.json.error.details).toEqual([
      { field: "prune", rule: "empty_import", message: "prune needs at least one number in the file" },
    ]);
    expect(refused.json.error.message).toMatch(/would deactivate all \d+ active numbers/);
    expect((await admin("GET", `/admin/phone-config/${phone}`)).json.config.is_active).toBe(true);
    const plan = await admin("POST", "/admin/phone-configs/import?prune=true&dry_run=true", { body: empty });
    expect(plan.status).toBe(200);
    expect(planOf(plan.json)[phone]).toEqual({ phone_number: phone, action: "deactivated" });
    expect((await admin("GET", `/admin/phone-config/${phone}`)).json.config.is_active).toBe(true);
  });

  it("refuses a file with any invalid document, listing every problem by number and field, and writes nothing", async () => {
    const admin = adminClient(await envFor(backend));
    const [good, bad] = [uniquePhone(), uniquePhone()];
    const res = await admin("POST", "/admin/phone-configs/import", {
      body: {
        configs: [
          sampleBody(good),
          sampleBody(bad, { temperature: 9, tts_voice: "nobody" }),
          { phone_number: "not a number", display_name: "x", system_prompt: "x", greeting: "x" },
          sampleBody(good),
        ],
        templates: [
          { name: "support", settings: {} },
          { name: "bad-voice", settings: { tts_voice: "zzz" } },
        ],
      },
    });
    expect(res.status).toBe(400);
    const fields = res.json.error.details.map((d: { field: string }) => d.field);
    expect(fields).toEqual(
      expect.arrayContaining([
        "configs[1].temperature",
        "configs[2].phone_number",
        "configs[3].phone_number",
        "templates[0].name",
        "templates[1].settings.tts_voice",
      ]),
    );
    expect(JSON.stringify(res.json.error.details)).toContain(bad);
    expect((await admin("GET", `/admin/phone-config/${good}`)).status).toBe(404);
  });

  it("checks tools as POST does (https outside development, unique names, E.164 targets), writing nothing", async () => {
    const admin = adminClient(await envFor(backend, { ENVIRONMENT: "production" }));
    const [good, plainHttp, twice, badTarget, inVariant] = [
      uniquePhone(),
      uniquePhone(),
      uniquePhone(),
      uniquePhone(),
      uniquePhone(),
    ];
    const webhook = (name: string, url = "https://orders.example.com/lookup") => ({
      type: "webhook",
      name,
      description: "Look up an order.",
      url,
      parameters: { type: "object", properties: { order_id: { type: "string" } } },
    });
    const body = {
      configs: [
        sampleBody(good, { tools: [webhook("lookup_order")] }),
        sampleBody(plainHttp, { tools: [webhook("lookup_order", "http://orders.example.com/lookup")] }),
        sampleBody(twice, { tools: [webhook("lookup_order"), webhook("lookup_order")] }),
        sampleBody(badTarget, { tools: [{ type: "transfer", targets: [{ name: "Sales", to: "12" }] }] }),
        sampleBody(inVariant, {
          variants: [
            { name: "a", weight: 50, settings: {} },
            {
              name: "b",
              weight: 50,
              settings: { tools: [webhook("lookup_order", "http://x.example.com/")] },
            },
          ],
        }),
      ],
    };
    // The same document POSTed alone is refused for the same reason.
    const posted = await admin("POST", "/admin/phone-config", { body: body.configs[1] });
    expect(posted.status).toBe(400);
    expect(posted.json.error.details).toContainEqual(
      expect.objectContaining({ field: "tools.0.url", rule: "https" }),
    );

    for (const dryRun of [true, false]) {
      const res = await admin("POST", `/admin/phone-configs/import?dry_run=${dryRun}`, { body });
      expect(res.status, JSON.stringify(res.json)).toBe(400);
      const details: Array<{ field: string; rule: string; message: string }> = res.json.error.details;
      expect(details).toContainEqual(
        expect.objectContaining({
          field: "configs[1].tools.0.url",
          rule: "https",
          message: expect.stringContaining(plainHttp),
        }),
      );
      expect(details).toContainEqual(
        expect.objectContaining({ field: expect.stringMatching(/^configs\[2\]\.tools/), rule: "unique" }),
      );
      expect(details).toContainEqual(
        expect.objectContaining({
          field: "configs[3].tools.0.targets.0.to",
          rule: "e164_or_sip",
          message: expect.stringContaining(badTarget),
        }),
      );
      expect(details).toContainEqual(
        expect.objectContaining({
          field: "configs[4].variants.1.settings.tools.0.url",
          rule: "https",
          message: expect.stringContaining(inVariant),
        }),
      );
      expect(details.some((d) => d.field.startsWith("configs[0]"))).toBe(false);
    }
    for (const phone of [good, plainHttp, twice, badTarget, inVariant]) {
      expect((await admin("GET", `/admin/phone-config/${phone}`)).status).toBe(404);
    }
  });
});
