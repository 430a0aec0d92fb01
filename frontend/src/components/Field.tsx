import type { InputHTMLAttributes, ReactNode } from "react";

interface FieldProps extends Omit<InputHTMLAttributes<HTMLInputElement>, "id" | "name"> {
  id: string;
  label: string;
  errors?: string[];
  hint?: ReactNode;
  /** Extra content shown after the input (e.g. a suffix). */
  suffix?: ReactNode;
  optionalLabel?: string;
}

/** A labelled input with its field errors rendered underneath (id `${id}-error`). */
export function Field({ id, label, errors = [], hint, suffix, optionalLabel, ...input }: FieldProps) {
  const hasError = errors.length > 0;
  const describedBy = [hasError ? `${id}-error` : null, hint ? `${id}-hint` : null].filter(Boolean).join(" ") || undefined;
  return (
    <div className={`field${hasError ? " field-invalid" : ""}`}>
      <label htmlFor={id}>
        {label}
        {optionalLabel ? <span className="optional"> ({optionalLabel})</span> : null}
      </label>
      <div className={suffix ? "input-group" : undefined}>
        <input id={id} name={id} aria-invalid={hasError || undefined} aria-describedby={describedBy} {...input} />
        {suffix ? <span className="input-suffix">{suffix}</span> : null}
      </div>
      {hint ? (
        <div className="field-hint" id={`${id}-hint`}>
          {hint}
        </div>
      ) : null}
      {hasError ? (
        <div className="field-error" id={`${id}-error`} data-testid={`${id}-error`}>
          {errors.map((e, i) => (
            <div key={i}>{e}</div>
          ))}
        </div>
      ) : null}
    </div>
  );
}
