import { describe, expect, it } from "vitest";
import { admin, sampleBody, uniquePhone } from "../support/admin.ts";

/** Settings a model will not receive are stored, and the write says so in `warnings`. */
describe("admin API: warnings for parameters the model ignores", () => {
  it("accepts a reasoning model with a temperature, and warns that it will not be sent", async () => {
    const phone = uniquePhone();
    const res = await admin("POST", "/admin/phone-config", {
      body: sampleBody(phone, { inference_model: "o3-mini", temperature: 0.4 }),
    });
    expect(res.status).toBe(201);
    expect(res.json.config).toMatchObject({ inference_model: "o3-mini", temperature: 0.4 });
    expect(res.json.warnings).toContainEqual({
      field: "temperature",
      rule: "ignored_for_model",
      message: expect.stringContaining("accepts only its default temperature 1"),
    });
  });

  it("warns on an update that sets the ignored parameter, not on unrelated edits", async () => {
    const phone = uniquePhone();
    await admin("POST", "/admin/phone-config", { body: sampleBody(phone) });
    const moved = await admin("PUT", `/admin/phone-config/${phone}`, { body: { inference_model: "gpt-5" } });
    expect(moved.status).toBe(200);
    expect(moved.json.warnings.map((w: { field: string }) => w.field)).toEqual(["temperature", "max_tokens"]);
    const unrelated = await admin("PUT", `/admin/phone-config/${phone}`, { body: { greeting: "Hello" } });
    expect(unrelated.json.warnings).toEqual([]);
    const fixed = await admin("PUT", `/admin/phone-config/${phone}`, { body: { temperature: 1 } });
    expect(fixed.json.warnings).toEqual([]);
  });

  it("has no warnings for a classic chat model", async () => {
    const res = await admin("POST", "/admin/phone-config", { body: sampleBody(uniquePhone()) });
    expect(res.json.warnings).toEqual([]);
  });
});
