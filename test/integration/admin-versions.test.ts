import { describe, expect, it } from "vitest";
import { sampleBody, uniquePhone } from "../support/admin.ts";
import { adminClient, envFor, STORE_BACKENDS } from "../support/store-envs.ts";

describe.each(STORE_BACKENDS)("versions over HTTP, %s store", (backend) => {
  async function setup() {
    const admin = adminClient(await envFor(backend));
    const phone = uniquePhone();
    return { admin, phone };
  }

  it("records every write with the key's name and the reason, newest first", async () => {
    const { admin, phone } = await setup();
    const created = await admin("POST", "/admin/phone-config", {
      body: sampleBody(phone, { greeting: "Welcome to Acme." }),
      headers: { "X-Change-Reason": "launch" },
    });
    expect(created.status).toBe(201);
    await admin("PUT", `/admin/phone-config/${phone}`, { key: "bob", body: { greeting: "Hi, Acme here." } });
    await admin("DELETE", `/admin/phone-config/${phone}`, {
      key: "bare",
      headers: { "X-Change-Reason": "paused" },
    });
    await admin("PUT", `/admin/phone-config/${phone}`, { body: { is_active: true } });

    const list = await admin("GET", `/admin/phone-config/${phone}/versions`);
    expect(list.status).toBe(200);
    expect(list.json.total).toBe(4);
    expect(
      list.json.versions.map((v: Record<string, unknown>) => [
        v.version,
        v.actor,
        v.reason,
        v.changed_fields,
        v.is_active,
      ]),
    ).toEqual([
      [4, "alice", null, ["is_active"], true],
      [3, "admin", "paused", ["is_active"], false],
      [2, "bob", null, ["greeting"], true],
      [1, "alice", "launch", expect.arrayContaining(["display_name", "greeting", "system_prompt"]), true],
    ]);
    // Keys are never stored, only their names.
    expect(JSON.stringify(list.json)).not.toContain("-key-000");

    const page = await admin("GET", `/admin/phone-config/${phone}/versions?limit=2&before=3`);
    expect(page.json.versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);

    const v2 = await admin("GET", `/admin/phone-config/${phone}/versions/2`);
    expect(v2.status).toBe(200);
    expect(v2.json.version).toMatchObject({
      version: 2,
      actor: "bob",
      changed_fields: ["greeting"],
      template: null,
      config: { phone_number: phone, greeting: "Hi, Acme here.", version: 2 },
    });
    const missing = await admin("GET", `/admin/phone-config/${phone}/versions/99`);
    expect(missing.status).toBe(404);
    expect(missing.json.error.message).toContain("no version 99");
    expect((await admin("GET", `/admin/phone-config/${uniquePhone()}/versions`)).status).toBe(404);
  });

  it("answers ETag on GET and honours If-Match on PUT, DELETE and rollback (412 with the current version)", async () => {
    const { admin, phone } = await setup();
    await admin("POST", "/admin/phone-config", { body: sampleBody(phone) });
    const got = await admin("GET", `/admin/phone-config/${phone}`);
    expect(got.headers.get("ETag")).toBe('"1"');

    const ok = await admin("PUT", `/admin/phone-config/${phone}`, {
      body: { greeting: "First edit." },
      headers: { "If-Match": '"1"' },
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("ETag")).toBe('"2"');

    const stale = { headers: { "If-Match": '"1"' } };
    for (const [method, path, body] of [
      ["PUT", `/admin/phone-config/${phone}`, { greeting: "Lost update." }],
      ["DELETE", `/admin/phone-config/${phone}`, undefined],
      ["DELETE", `/admin/phone-config/${phone}?hard_delete=true`, undefined],
      ["POST", `/admin/phone-config/${phone}/rollback`, { version: 1 }],
    ] as const) {
      const res = await admin(method, path, { ...stale, ...(body && { body }) });
      expect(res.status, `${method} ${path}`).toBe(412);
      expect(res.json.error).toMatchObject({ code: "PRECONDITION_FAILED", current_version: 2 });
    }
    const after = await admin("GET", `/admin/phone-config/${phone}`);
    expect(after.json.config).toMatchObject({ version: 2, greeting: "First edit.", is_active: true });
    expect((await admin("GET", `/admin/phone-config/${phone}/versions`)).json.total).toBe(2);

    // The body's version check stays: a 409.
    const conflict = await admin("PUT", `/admin/phone-config/${phone}`, {
      body: { greeting: "x", version: 1 },
    });
    expect(conflict.status).toBe(409);
    expect(
      (await admin("PUT", `/admin/phone-config/${phone}`, { body: { greeting: "y", version: 2 } })).status,
    ).toBe(200);
    const star = await admin("DELETE", `/admin/phone-config/${phone}`, { headers: { "If-Match": "*" } });
    expect(star.status).toBe(200);
    const bad = await admin("PUT", `/admin/phone-config/${phone}`, {
      body: { greeting: "z" },
      headers: { "If-Match": "v4" },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details[0].field).toBe("If-Match");
  });

  it("honours If-Match on POST (create or replace): 412 with the current version, or when the number does not exist", async () => {
    const { admin, phone } = await setup();
    await admin("POST", "/admin/phone-config", { body: sampleBody(phone) });
    const stale = await admin("POST", "/admin/phone-config", {
      body: sampleBody(phone, { greeting: "Lost update." }),
      headers: { "If-Match": '"99"' },
    });
    expect(stale.status).toBe(412);
    expect(stale.json.error).toMatchObject({ code: "PRECONDITION_FAILED", current_version: 1 });
    expect((await admin("GET", `/admin/phone-config/${phone}`)).json.config.version).toBe(1);

    const ok = await admin("POST", "/admin/phone-config", {
      body: sampleBody(phone, { greeting: "Replaced." }),
      headers: { "If-Match": '"1"' },
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("ETag")).toBe('"2"');
    expect(ok.json.config).toMatchObject({ version: 2, greeting: "Replaced." });

    const fresh = uniquePhone();
    for (const tag of ['"1"', "*"]) {
      const none = await admin("POST", "/admin/phone-config", {
        body: sampleBody(fresh),
        headers: { "If-Match": tag },
      });
      expect(none.status, tag).toBe(412);
      expect(none.json.error.details[0].field).toBe("If-Match");
    }
    expect((await admin("GET", `/admin/phone-config/${fresh}`)).status).toBe(404);
    expect((await admin("POST", "/admin/phone-config", { body: sampleBody(fresh) })).status).toBe(201);
  });

  it("gives 20 parallel PUTs to one number versions 2..21, each with exactly one revision", async () => {
    const { admin, phone } = await setup();
    await admin("POST", "/admin/phone-config", { body: sampleBody(phone) });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        admin("PUT", `/admin/phone-config/${phone}`, { body: { max_tokens: 100 + i } }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    const versions = results.map((r) => r.json.config.version as number).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
    const list = await admin("GET", `/admin/phone-config/${phone}/versions?limit=100`);
    expect(list.json.total).toBe(21);
    expect(list.json.versions.map((v: { version: number }) => v.version)).toEqual(
      Array.from({ length: 21 }, (_, i) => 21 - i),
    );
  });

  it("diffs two versions and rolls back to an earlier one; rolling back to what is current writes nothing", async () => {
    const { admin, phone } = await setup();
    const created = await admin("POST", "/admin/phone-config", {
      body: sampleBody(phone, { greeting: "Old greeting.", temperature: 0.7 }),
    });
    await admin("PUT", `/admin/phone-config/${phone}`, {
      body: { greeting: "New greeting.", temperature: 0.2 },
    });

    const diff = await admin("GET", `/admin/phone-config/${phone}/diff?from=1`);
    expect(diff.json).toEqual({
      success: true,
      from: 1,
      to: 2,
      changes: [
        { field: "temperature", from: 0.7, to: 0.2 },
        { field: "greeting", from: "Old greeting.", to: "New greeting." },
      ],
    });
    expect((await admin("GET", `/admin/phone-config/${phone}/diff?from=1&to=9`)).status).toBe(404);

    const rolled = await admin("POST", `/admin/phone-config/${phone}/rollback`, {
      key: "bob",
      body: { version: 1 },
    });
    expect(rolled.status).toBe(200);
    expect(rolled.json.config).toMatchObject({
      greeting: "Old greeting.",
      temperature: 0.7,
      version: 3,
      created_at: created.json.config.created_at,
    });
    const v3 = await admin("GET", `/admin/phone-config/${phone}/versions/3`);
    expect(v3.json.version).toMatchObject({
      actor: "bob",
      reason: "rollback to version 1",
      changed_fields: ["temperature", "greeting"],
    });

    const again = await admin("POST", `/admin/phone-config/${phone}/rollback`, { body: { version: 1 } });
    expect(again.status).toBe(200);
    expect(again.json.message).toContain("nothing written");
    expect(again.json.config.version).toBe(3);
    expect((await admin("GET", `/admin/phone-config/${phone}/versions`)).json.total).toBe(3);

    const unknown = await admin("POST", `/admin/phone-config/${phone}/rollback`, { body: { version: 42 } });
    expect(unknown.status).toBe(404);
  });

  it("refuses an X-Change-Reason over 200 characters, naming the header, and writes nothing", async () => {
    const { admin, phone } = await setup();
    const res = await admin("POST", "/admin/phone-config", {
      body: sampleBody(phone),
      headers: { "X-Change-Reason": "x".repeat(201) },
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.json.error.details)).toMatch(/x-change-reason/i);
    expect((await admin("GET", `/admin/phone-config/${phone}`)).status).toBe(404);
  });
});
