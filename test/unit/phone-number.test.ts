import { describe, expect, it } from "vitest";
import { normalizePhoneNumber } from "../../src/config/phone-number.ts";
import { AppError } from "../../src/errors.ts";

describe("normalizePhoneNumber", () => {
  it.each([
    ["+1 (866) 813-4984", "US"],
    ["18668134984", "US"],
    ["+18668134984", "US"],
    ["%2B18668134984", "US"],
    ["8668134984", "US"],
    ["866.813.4984", "US"],
    [" 18668134984", "US"], // a form-decoded "+" arrives as a space
  ])("reads %j as +18668134984", (input, country) => {
    expect(normalizePhoneNumber(input, country)).toBe("+18668134984");
  });

  it("applies the default country to national numbers, and keeps international ones", () => {
    expect(normalizePhoneNumber("020 7183 8750", "GB")).toBe("+442071838750");
    expect(normalizePhoneNumber("442071838750", "US")).toBe("+442071838750");
    expect(normalizePhoneNumber("+44 20 7183 8750", "US")).toBe("+442071838750");
  });

  it.each(["", "12", "+1 12", "call-me", "+1866813498412345", "%ZZ"])(
    "rejects %j with a 400 that says why",
    (input) => {
      let error: unknown;
      try {
        normalizePhoneNumber(input, "US");
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).status).toBe(400);
      expect((error as AppError).details[0]?.field).toBe("phone_number");
    },
  );

  it("names the field it was asked about", () => {
    expect(() => normalizePhoneNumber("nope", "US", "To")).toThrow(/^To /);
  });
});
