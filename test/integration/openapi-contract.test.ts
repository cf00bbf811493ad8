import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

/**
 * One error contract: every admin operation in /openapi.json documents its error answers with
 * the one shared Error schema (src/http/openapi.ts), and the answers the app really gives have
 * that shape (test/integration/security.test.ts, admin-api.test.ts).
 */

interface Operation {
  responses: Record<string, { content?: { "application/json"?: { schema?: { $ref?: string } } } }>;
}

const spec = async () =>
  (await (await exports.default.fetch("http://localhost/openapi.json")).json()) as {
    paths: Record<string, Record<string, Operation>>;
  };

describe("OpenAPI: one error contract for every admin route", () => {
  it("documents 400, 401, 403, 5xx on every admin operation, and 409, 413, 415, 422 on every write with a body", async () => {
    const { paths } = await spec();
    const operations = Object.entries(paths)
      .filter(([path]) => path.startsWith("/admin/"))
      .flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })));
    expect(operations.length).toBeGreaterThanOrEqual(7);
    for (const { path, method, op } of operations) {
      const where = `${method.toUpperCase()} ${path}`;
      const expected = ["400", "401", "403", "500", "503", "504"];
      // A preview takes a JSON body but writes nothing, and answers an unknown number's defaults.
      const preview = path.endsWith("/preview");
      if (preview) expected.push("413", "415");
      else if (method === "post" || method === "put" || method === "patch")
        expected.push("409", "413", "415", "422");
      if (path.includes("{") && !preview) expected.push("404");
      for (const status of expected) {
        expect(op.responses[status], `${where} documents ${status}`).toBeDefined();
      }
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) < 400) continue;
        expect(response.content?.["application/json"]?.schema?.$ref, `${where} ${status}`).toBe(
          "#/components/schemas/Error",
        );
      }
    }
  });
});
