import { describe, expect, it } from "vitest";
import { decodeBase64, decodeBase64Url, encodeBase64, encodeBase64Url } from "../../src/base64.ts";

/** The platform's base64 of `bytes`, to compare with. */
const platform = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const bytesAround = (length: number) => new Uint8Array(length).map((_, i) => (i * 151 + length) & 0xff);

describe("base64", () => {
  it("agrees with the platform's base64 for every length around a frame and all byte values", () => {
    for (let length = 0; length <= 170; length++) {
      const bytes = bytesAround(length);
      const expected = platform(bytes);
      expect(encodeBase64(bytes)).toBe(expected);
      expect(decodeBase64(expected)).toEqual(bytes);
    }
  });

  it("decodes unpadded text and rejects text that is not base64", () => {
    expect(decodeBase64("/38")).toEqual(new Uint8Array([0xff, 0x7f]));
    expect(decodeBase64("ab-_")).toBeNull();
    expect(decodeBase64("abcde")).toBeNull();
    expect(decodeBase64("ab=")).toBeNull();
    expect(decodeBase64("é")).toBeNull();
  });

  it("rejects whitespace inside the text, which the runtime's decoder would skip", () => {
    // A signature or token spelled with a space or a line break must not pass as the same bytes.
    for (const spelled of ["AA E=", "AAE= ", " AAE=", "AA\nE=", "AA\tE="]) {
      expect(decodeBase64(spelled), JSON.stringify(spelled)).toBeNull();
    }
    expect(decodeBase64("AAE=")).toEqual(new Uint8Array([0, 1]));
  });
});

describe("base64url", () => {
  it("encodes RFC 4648's test vectors unpadded", () => {
    // RFC 4648 §10, without the padding §5 lets URLs drop.
    const vectors = {
      "": "",
      f: "Zg",
      fo: "Zm8",
      foo: "Zm9v",
      foob: "Zm9vYg",
      fooba: "Zm9vYmE",
      foobar: "Zm9vYmFy",
    };
    for (const [text, encoded] of Object.entries(vectors)) {
      const bytes = new TextEncoder().encode(text);
      expect(encodeBase64Url(bytes)).toBe(encoded);
      expect(decodeBase64Url(encoded)).toEqual(bytes);
    }
  });

  it("uses - and _ where base64 has + and /, for every length and byte value", () => {
    expect(encodeBase64Url(new Uint8Array([0xfb, 0xff]))).toBe("-_8");
    for (let length = 0; length <= 70; length++) {
      const bytes = bytesAround(length);
      const expected = platform(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
      expect(encodeBase64Url(bytes)).toBe(expected);
      expect(decodeBase64Url(expected)).toEqual(bytes);
    }
  });

  it("rejects standard base64's own characters and text of an impossible length", () => {
    expect(decodeBase64Url("-_8")).toEqual(new Uint8Array([0xfb, 0xff]));
    expect(decodeBase64Url("+/8")).toBeNull();
    expect(decodeBase64Url("abcde")).toBeNull();
    expect(decodeBase64Url("not base64!")).toBeNull();
    expect(decodeBase64Url("Zm9v Yg")).toBeNull();
  });
});
