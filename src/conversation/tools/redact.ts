/**
 * Arguments as the call log keeps them: any field whose name looks like a secret (password,
 * PIN, card number, token, ...) at any depth is replaced, so a caller reading out a card number
 * to a booking tool does not leave it in /admin/calls.
 */

export const REDACTED = "[redacted]";

const SECRET_NAME =
  /pass(word|code|phrase)?|secret|token|api[-_]?key|auth|credential|pin$|^pin|cvv|cvc|card[-_]?(number|no)|iban|ssn|social[-_]?security/i;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => [key, isSecretName(key) ? REDACTED : redactSecrets(v)]),
  );
}
