import { describe, expect, it } from "vitest";
import { bearerKey, planTable } from "../../scripts/configs.ts";

describe("npm run configs:*", () => {
  it("sends the key of a named ADMIN_API_KEY entry, never its name", () => {
    expect(bearerKey("alice:k-1,bob:k-2")).toBe("k-1");
    expect(bearerKey("bare-key")).toBe("bare-key");
  });

  it("prints the import plan as a table", () => {
    expect(
      planTable(
        [
          { phone_number: "+18668134984", action: "updated", changed_fields: ["greeting", "temperature"] },
          { phone_number: "+18005550100", action: "created" },
        ],
        [{ name: "front-desk", action: "unchanged" }],
      ),
    ).toBe(
      [
        "phone_number         action     changed_fields",
        "+18668134984         updated    greeting, temperature",
        "+18005550100         created",
        "template front-desk  unchanged",
      ].join("\n"),
    );
  });
});
