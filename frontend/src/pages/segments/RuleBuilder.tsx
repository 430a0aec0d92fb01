import type { ReactNode } from "react";
import type { Label, Product, RuleGroup, SegmentRule } from "../../api";
import { useI18n, type TKey } from "../../i18n";
import { defaultValue, isGroup, newRule, updateAt, type FieldDef, type ValueKind } from "./rules";

export interface RuleOptions {
  fields: FieldDef[];
  labels: Label[];
  products: Product[];
  rfm: { key: string; name: string }[];
  /** Choices of choice-type attributes, by field key ("attribute:<key>"). */
  choices: Record<string, string[]>;
}

function numOrNull(raw: string): number | null {
  if (raw.trim() === "") return null;
  const n = Number(raw);
  return Number.isFinite(n) ? n : null;
}

/**
 * Nested AND/OR rule editor. Rules are numbered depth-first (`rule-field-<n>`, `rule-operator-<n>`, `rule-value-<n>`);
 * groups are addressed by path: "0" is the root group, "0-1" its child at index 1, and so on.
 */
export function RuleBuilder({ value, onChange, options }: { value: RuleGroup; onChange: (next: RuleGroup) => void; options: RuleOptions }) {
  const { t } = useI18n();
  const fieldLabel = (f: FieldDef) => (f.labelKey ? t(f.labelKey) : (f.label ?? f.key));
  const findField = (key: string) => options.fields.find((f) => f.key === key);

  function valueInput(rule: SegmentRule, kind: ValueKind, n: number, set: (v: unknown) => void): ReactNode {
    const testId = `rule-value-${n}`;
    const label = t("rules.value");
    switch (kind) {
      case "none":
        return null;
      case "text":
        return <input aria-label={label} value={String(rule.value ?? "")} onChange={(e) => set(e.target.value)} data-testid={testId} />;
      case "number":
      case "days":
        return (
          <span className="rule-value-group">
            <input
              type="number"
              aria-label={label}
              className="input-md"
              value={rule.value == null ? "" : String(rule.value)}
              onChange={(e) => set(numOrNull(e.target.value))}
              data-testid={testId}
            />
            {kind === "days" ? <span className="muted small">{t("rules.days")}</span> : null}
          </span>
        );
      case "numberRange":
      case "dateRange": {
        const pair = Array.isArray(rule.value) ? (rule.value as unknown[]) : kind === "numberRange" ? [null, null] : ["", ""];
        const type = kind === "numberRange" ? "number" : "date";
        const conv = (raw: string) => (kind === "numberRange" ? numOrNull(raw) : raw);
        return (
          <span className="rule-value-group">
            <input type={type} aria-label={t("rules.from")} className="input-md" value={pair[0] == null ? "" : String(pair[0])} onChange={(e) => set([conv(e.target.value), pair[1]])} data-testid={testId} />
            <span className="muted small">{t("rules.and")}</span>
            <input
              type={type}
              aria-label={t("rules.to")}
              className="input-md"
              value={pair[1] == null ? "" : String(pair[1])}
              onChange={(e) => set([pair[0], conv(e.target.value)])}
              data-testid={`${testId}-max`}
            />
          </span>
        );
      }
      case "date":
        return <input type="date" aria-label={label} value={String(rule.value ?? "")} onChange={(e) => set(e.target.value)} data-testid={testId} />;
      case "label":
      case "product":
        return (
          <select aria-label={label} value={rule.value == null ? "" : String(rule.value)} onChange={(e) => set(e.target.value ? Number(e.target.value) : null)} data-testid={testId}>
            <option value="">{t("rules.choose")}</option>
            {(kind === "label" ? options.labels : options.products).map((o) => (
              <option key={o.id} value={String(o.id)}>
                {o.name}
              </option>
            ))}
          </select>
        );
      case "rfm":
      case "choice": {
        const items = kind === "rfm" ? options.rfm : (options.choices[rule.field] ?? []).map((c) => ({ key: c, name: c }));
        return (
          <select aria-label={label} value={String(rule.value ?? "")} onChange={(e) => set(e.target.value || null)} data-testid={testId}>
            <option value="">{t("rules.choose")}</option>
            {items.map((o) => (
              <option key={o.key} value={o.key}>
                {o.name}
              </option>
            ))}
          </select>
        );
      }
      case "rfmMulti":
      case "choiceMulti": {
        const items = kind === "rfmMulti" ? options.rfm : (options.choices[rule.field] ?? []).map((c) => ({ key: c, name: c }));
        const selected = Array.isArray(rule.value) ? (rule.value as string[]) : [];
        return (
          <select multiple aria-label={label} value={selected} onChange={(e) => set([...e.target.selectedOptions].map((o) => o.value))} data-testid={testId}>
            {items.map((o) => (
              <option key={o.key} value={o.key}>
                {o.name}
              </option>
            ))}
          </select>
        );
      }
    }
  }

  const counter = { n: 0 };

  function renderRule(rule: SegmentRule, path: number[]) {
    const n = counter.n++;
    const field = findField(rule.field);
    const opDef = field?.operators.find((o) => o.op === rule.operator) ?? field?.operators[0];
    const replace = (next: SegmentRule) => onChange(updateAt(value, path, () => next));
    return (
      <li key={path.join("-")} className="rule-row" data-testid={`rule-${n}`}>
        <select
          aria-label={t("rules.field")}
          value={rule.field}
          onChange={(e) => {
            const f = findField(e.target.value);
            if (f) replace(newRule(f));
          }}
          data-testid={`rule-field-${n}`}
        >
          {!field ? <option value={rule.field}>{rule.field}</option> : null}
          {options.fields.map((f) => (
            <option key={f.key} value={f.key}>
              {fieldLabel(f)}
            </option>
          ))}
        </select>
        <select
          aria-label={t("rules.operator")}
          value={rule.operator}
          onChange={(e) => {
            const op = field?.operators.find((o) => o.op === e.target.value);
            const keep = op && opDef && op.value === opDef.value;
            replace({ ...rule, operator: e.target.value, value: keep ? rule.value : defaultValue(op?.value ?? "text") });
          }}
          data-testid={`rule-operator-${n}`}
        >
          {(field?.operators ?? [{ op: rule.operator, value: "text" as ValueKind }]).map((o) => (
            <option key={o.op} value={o.op}>
              {t(`rules.op.${o.op}` as TKey)}
            </option>
          ))}
        </select>
        {opDef ? valueInput(rule, opDef.value, n, (v) => replace({ ...rule, value: v })) : null}
        <button type="button" className="btn btn-ghost btn-sm" aria-label={t("rules.remove")} onClick={() => onChange(updateAt(value, path, () => null))} data-testid={`rule-remove-${n}`}>
          ×
        </button>
      </li>
    );
  }

  function renderGroup(group: RuleGroup, path: number[]): ReactNode {
    const id = ["0", ...path].join("-");
    const suffix = path.length === 0 ? "" : `-${id}`;
    const addRule = () => onChange(updateAt(value, path, (g) => ({ ...(g as RuleGroup), rules: [...(g as RuleGroup).rules, newRule(options.fields[0])] })));
    const addGroup = () =>
      onChange(updateAt(value, path, (g) => ({ ...(g as RuleGroup), rules: [...(g as RuleGroup).rules, { op: "and", rules: [newRule(options.fields[0])] } as RuleGroup] })));
    return (
      <div className={`rule-group${path.length ? " rule-group-nested" : ""}`} data-testid={`group-${id}`} key={id}>
        <div className="rule-group-head">
          <button
            type="button"
            className={`btn btn-sm group-op group-op-${group.op}`}
            onClick={() => onChange(updateAt(value, path, (g) => ({ ...(g as RuleGroup), op: (g as RuleGroup).op === "and" ? "or" : "and" })))}
            data-testid={`group-op-${id}`}
            data-op={group.op}
            title={t("rules.toggleOp")}
          >
            {group.op === "and" ? t("rules.opAnd") : t("rules.opOr")}
          </button>
          <span className="muted small">{group.op === "and" ? t("rules.opAndHint") : t("rules.opOrHint")}</span>
          {path.length ? (
            <button type="button" className="btn btn-ghost btn-sm" onClick={() => onChange(updateAt(value, path, () => null))} data-testid={`group-remove-${id}`}>
              {t("rules.removeGroup")}
            </button>
          ) : null}
        </div>
        <ul className="rule-list">
          {group.rules.map((child, i) =>
            isGroup(child) ? (
              <li key={[...path, i].join("-")} className="rule-group-item">
                {renderGroup(child, [...path, i])}
              </li>
            ) : (
              renderRule(child, [...path, i])
            ),
          )}
        </ul>
        <div className="button-row">
          <button type="button" className="btn btn-ghost btn-sm" onClick={addRule} data-testid={`rule-add${suffix}`}>
            + {t("rules.addRule")}
          </button>
          <button type="button" className="btn btn-ghost btn-sm" onClick={addGroup} data-testid={`group-add${suffix}`}>
            + {t("rules.addGroup")}
          </button>
        </div>
      </div>
    );
  }

  return <div className="rule-builder">{renderGroup(value, [])}</div>;
}
