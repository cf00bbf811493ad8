import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { sampleBody, uniquePhone } from "../support/admin.ts";
import { testEnv } from "../support/env.ts";

afterEach(() => vi.restoreAllMocks());

describe("one logger per request", () => {
  it("every line a request writes carries its request_id, the one in X-Request-Id", async () => {
    const out: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => out.push(String(line)));
    const res = await exports.default.fetch("http://localhost/admin/phone-config", {
      method: "POST",
      headers: { Authorization: `Bearer ${testEnv.ADMIN_API_KEY}`, "Content-Type": "application/json" },
      body: JSON.stringify(sampleBody(uniquePhone())),
    });
    expect(res.status).toBe(201);
    const requestId = res.headers.get("X-Request-Id");
    const written = out.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(written.map((l) => l.event)).toContain("phone_config_saved");
    for (const line of written) expect(line.request_id, String(line.event)).toBe(requestId);
  });
});
