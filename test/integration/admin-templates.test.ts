import { describe, expect, it } from "vitest";
import { CreateConfigBody } from "../../src/config/schema.ts";
import { BUILTIN_TEMPLATES } from "../../src/config/templates.ts";
import { uniquePhone } from "../support/admin.ts";
import { adminClient, envFor, STORE_BACKENDS } from "../support/store-envs.ts";

describe("POST /admin/phone-config in /openapi.json", () => {
  it("documents `template` in the create body's schema, and its example creates a number from that template", async () => {
    const admin = adminClient(await envFor("embedded"));
    const spec = (await admin("GET", "/openapi.json", { key: null })).json;
    const ref = spec.paths["/admin/phone-config"].post.requestBody.content["application/json"].schema.$ref;
    expect(ref).toBe("#/components/schemas/PhoneConfigCreateRequest");
    const schema = spec.components.schemas.PhoneConfigCreateRequest;
    expect(schema.properties.template).toMatchObject({ type: "string", example: "receptionist" });
    expect(schema.properties.template.description).toMatch(/template/);
    expect(schema.required).toContain("phone_number");
    expect(schema.required ?? []).not.toContain("template");

    const example = { ...schema.example, phone_number: uniquePhone() };
    expect(example.template).toBe("receptionist");
    const created = await admin("POST", "/admin/phone-config", { body: example });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const receptionist = BUILTIN_TEMPLATES.find((t) => t.name === "receptionist");
    expect(created.json.config.system_prompt).toBe(receptionist?.settings.system_prompt);
    expect(created.json.config.greeting).toBe(example.greeting);
    expect(created.json.config).not.toHaveProperty("template");
  });
});

describe("built-in templates", () => {
  it("has receptionist, after-hours, appointments, sales and support, each valid and written for the ear", () => {
    expect(BUILTIN_TEMPLATES.map((t) => t.name)).toEqual([
      "receptionist",
      "after-hours",
      "appointments",
      "sales",
      "support",
    ]);
    for (const template of BUILTIN_TEMPLATES) {
      const parsed = CreateConfigBody.safeParse({ phone_number: "+14155550100", ...template.settings });
      expect(parsed.success, `${template.name}: ${parsed.error?.message}`).toBe(true);
      for (const text of [template.settings.system_prompt, template.settings.greeting]) {
        // Heard, not read: no markdown, lists or symbols a voice would read out.
        expect(text).not.toMatch(/[*#_`>|[\]{}]|\n|^\s*[-•\d]+[.)]?\s/m);
        // Short sentences.
        for (const sentence of (text ?? "").split(/(?<=[.?!])\s+/)) {
          expect(sentence.split(/\s+/).length, sentence).toBeLessThanOrEqual(32);
        }
      }
      // The greeting asks at most one question.
      expect((template.settings.greeting?.match(/\?/g) ?? []).length).toBeLessThanOrEqual(1);
    }
  });
});

describe.each(STORE_BACKENDS)("templates over HTTP, %s store", (backend) => {
  it("lists built-ins, keeps user templates in the store, and guards the built-ins", async () => {
    const admin = adminClient(await envFor(backend));
    const name = `desk-${crypto.randomUUID().slice(0, 8)}`;
    const listed = await admin("GET", "/admin/templates");
    expect(listed.status).toBe(200);
    expect(
      listed.json.templates
        .filter((t: { builtin: boolean }) => t.builtin)
        .map((t: { name: string }) => t.name),
    ).toEqual(BUILTIN_TEMPLATES.map((t) => t.name));

    const body = {
      name,
      description: "Front desk",
      settings: { greeting: "Front desk, hello.", temperature: 0.3 },
    };
    const created = await admin("POST", "/admin/templates", { body });
    expect(created.status).toBe(201);
    expect(created.json.template).toMatchObject({ ...body, builtin: false });
    expect((await admin("POST", "/admin/templates", { body })).status).toBe(409);
    expect((await admin("POST", "/admin/templates", { body: { ...body, name: "support" } })).status).toBe(
      409,
    );

    const invalid = await admin("POST", "/admin/templates", {
      body: { name: `${name}-x`, settings: { temperature: 5, phone_number: "+14155550100" } },
    });
    expect(invalid.status).toBe(400);
    const fields = invalid.json.error.details.map((d: { field: string }) => d.field);
    expect(fields).toEqual(expect.arrayContaining(["settings.temperature", "settings.phone_number"]));

    // The cross-field rules too, as a create from the template would meet them.
    for (const [settings, field, message] of [
      [{ tts_voice: "zzz" }, "settings.tts_voice", /voice "zzz" is not available for tts-1/],
      [{ tts_model: "tts-1", tts_voice: "marin" }, "settings.tts_voice", /not available for tts-1/],
      [{ conversation_mode: "realtime" }, "settings.inference_model", /not a realtime model/],
      [
        {
          tools: [
            {
              type: "webhook",
              name: "END_CALL",
              description: "x",
              url: "https://a.example/x",
              parameters: { type: "object" },
            },
          ],
        },
        "settings.tools.0.name",
        /reserved/,
      ],
    ] as const) {
      const refused = await admin("POST", "/admin/templates", { body: { name: `${name}-v`, settings } });
      expect(refused.status, JSON.stringify(settings)).toBe(400);
      const detail = refused.json.error.details.find((d: { field: string }) => d.field === field);
      expect(detail?.message, JSON.stringify(refused.json.error.details)).toMatch(message);
    }
    expect((await admin("GET", `/admin/templates/${name}-v`)).status).toBe(404);

    expect((await admin("PUT", "/admin/templates/support", { body: { settings: {} } })).status).toBe(403);
    expect((await admin("DELETE", "/admin/templates/sales")).status).toBe(403);

    const replaced = await admin("PUT", `/admin/templates/${name}`, {
      body: { settings: { max_tokens: 90 } },
    });
    expect(replaced.status).toBe(200);
    expect((await admin("GET", `/admin/templates/${name}`)).json.template.settings).toEqual({
      max_tokens: 90,
    });
    expect((await admin("GET", "/admin/templates/support")).json.template.builtin).toBe(true);

    expect((await admin("DELETE", `/admin/templates/${name}`)).status).toBe(200);
    expect((await admin("GET", `/admin/templates/${name}`)).status).toBe(404);
    expect((await admin("DELETE", `/admin/templates/${name}`)).status).toBe(404);
  });

  it("creates a number from a template: the body's fields win, the revision names the template", async () => {
    const admin = adminClient(await envFor(backend));
    const phone = uniquePhone();
    const support = BUILTIN_TEMPLATES.find((t) => t.name === "support");
    const res = await admin("POST", "/admin/phone-config", {
      body: { phone_number: phone, template: "support", greeting: "Acme support, hello." },
    });
    expect(res.status).toBe(201);
    expect(res.json.config).toMatchObject({
      display_name: "Support",
      system_prompt: support?.settings.system_prompt,
      greeting: "Acme support, hello.",
      temperature: 0.4,
      tts_model: "tts-1",
    });
    const v1 = await admin("GET", `/admin/phone-config/${phone}/versions/1`);
    expect(v1.json.version.template).toBe("support");

    const unknown = await admin("POST", "/admin/phone-config", {
      body: { phone_number: uniquePhone(), template: "no-such-template" },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error.message).toContain("no-such-template");
    expect(unknown.json.error.details[0].field).toBe("template");
  });
});
