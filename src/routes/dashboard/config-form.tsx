import type { FieldSpec } from "./form.ts";
import { Csrf } from "./layout.tsx";

/** One input per schema field, each with its label, hint, bounds and the API's error message. */

export interface ConfigFormProps {
  action: string;
  csrf: string;
  specs: FieldSpec[];
  /** what the inputs show: the stored config, or what the operator just sent */
  values: Record<string, unknown>;
  errors: Record<string, string>;
  submit: string;
  /** fields shown but not editable (the number of an existing config) */
  readOnly?: string[];
  /** hidden fields sent along (the template a new number started from) */
  hidden?: Record<string, string>;
}

function display(value: unknown, kind: FieldSpec["kind"]): string {
  if (value === undefined || value === null) return "";
  if (kind === "json") return typeof value === "string" ? value : JSON.stringify(value, null, 2);
  return String(value);
}

function Field({
  spec,
  value,
  error,
  readOnly,
}: {
  spec: FieldSpec;
  value: unknown;
  error?: string | undefined;
  readOnly: boolean;
}) {
  const id = `f-${spec.name}`;
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const bounds =
    spec.kind === "number" && (spec.min !== undefined || spec.max !== undefined)
      ? `${spec.min ?? "…"} to ${spec.max ?? "…"}${spec.integer ? ", whole numbers" : ""}`
      : undefined;
  const hint = [spec.hint, bounds].filter(Boolean).join("; ");
  const describedBy = [hint ? hintId : "", error ? errorId : ""].filter(Boolean).join(" ") || undefined;
  const common = {
    id,
    name: spec.name,
    "aria-describedby": describedBy,
    "aria-invalid": error ? "true" : undefined,
  };
  let control: unknown;
  switch (spec.kind) {
    case "checkbox":
      control = <input type="checkbox" {...common} checked={value === true} />;
      break;
    case "select":
      control = (
        <select {...common} required={spec.required}>
          {(spec.options ?? []).map((o) => (
            <option value={o} selected={o === value}>
              {o}
            </option>
          ))}
        </select>
      );
      break;
    case "number":
      control = (
        <input
          type="number"
          step={spec.integer ? "1" : "any"}
          min={spec.min}
          max={spec.max}
          {...common}
          value={display(value, spec.kind)}
          required={spec.required}
          readonly={readOnly}
        />
      );
      break;
    case "textarea":
    case "json":
      control = (
        <textarea
          {...common}
          rows={spec.kind === "json" ? 8 : 5}
          class={spec.kind === "json" ? "code" : undefined}
          spellcheck={spec.kind === "json" ? false : undefined}
          required={spec.required}
        >
          {display(value, spec.kind)}
        </textarea>
      );
      break;
    default:
      control = (
        <input
          type="text"
          {...common}
          value={display(value, spec.kind)}
          maxlength={spec.maxLength}
          required={spec.required}
          readonly={readOnly}
        />
      );
  }
  return (
    <div class={`field ${spec.kind}${error ? " invalid" : ""}`}>
      <label for={id}>{spec.label}</label>
      {control}
      {hint && (
        <p class="hint" id={hintId}>
          {hint}
        </p>
      )}
      {error && (
        <p class="error" id={errorId}>
          {error}
        </p>
      )}
    </div>
  );
}

export function ConfigForm({
  action,
  csrf,
  specs,
  values,
  errors,
  submit,
  readOnly = [],
  hidden = {},
}: ConfigFormProps) {
  return (
    <form method="post" action={action} class="config" novalidate>
      <Csrf token={csrf} />
      {Object.entries(hidden).map(([name, value]) => (
        <input type="hidden" name={name} value={value} />
      ))}
      {errors[""] && (
        <p class="error" role="alert">
          {errors[""]}
        </p>
      )}
      {specs.map((spec) => (
        <Field
          spec={spec}
          value={values[spec.name]}
          error={errors[spec.name]}
          readOnly={readOnly.includes(spec.name)}
        />
      ))}
      <div class="actions">
        <button type="submit">{submit}</button>
      </div>
    </form>
  );
}
