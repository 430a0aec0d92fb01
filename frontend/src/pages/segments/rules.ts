import type { CustomAttribute, RuleGroup, SegmentRule } from "../../api";
import type { TKey } from "../../i18n";

/** What kind of input a rule's value needs. */
export type ValueKind = "none" | "text" | "number" | "numberRange" | "date" | "dateRange" | "days" | "label" | "product" | "rfm" | "rfmMulti" | "choice" | "choiceMulti";

export interface OperatorDef {
  op: string;
  value: ValueKind;
}

export interface FieldDef {
  key: string;
  /** Either a dictionary key or a literal label (custom attributes). */
  labelKey?: TKey;
  label?: string;
  operators: OperatorDef[];
}

const DATE_OPS: OperatorDef[] = [
  { op: "within_days", value: "days" },
  { op: "not_within_days", value: "days" },
  { op: "before", value: "date" },
  { op: "after", value: "date" },
  { op: "never", value: "none" },
];

export const STATIC_FIELDS: FieldDef[] = [
  { key: "label", labelKey: "rules.field.label", operators: [{ op: "has", value: "label" }, { op: "has_not", value: "label" }] },
  { key: "city", labelKey: "rules.field.city", operators: [{ op: "is", value: "text" }, { op: "is_not", value: "text" }, { op: "contains", value: "text" }] },
  { key: "consent", labelKey: "rules.field.consent", operators: [{ op: "opted_in", value: "none" }, { op: "opted_out", value: "none" }] },
  { key: "total_spent", labelKey: "rules.field.total_spent", operators: [{ op: "gt", value: "number" }, { op: "lt", value: "number" }, { op: "between", value: "numberRange" }] },
  {
    key: "order_count",
    labelKey: "rules.field.order_count",
    operators: [{ op: "eq", value: "number" }, { op: "gt", value: "number" }, { op: "lt", value: "number" }, { op: "between", value: "numberRange" }],
  },
  { key: "last_order_at", labelKey: "rules.field.last_order_at", operators: DATE_OPS },
  { key: "first_order_at", labelKey: "rules.field.first_order_at", operators: DATE_OPS },
  { key: "last_inbound_at", labelKey: "rules.field.last_inbound_at", operators: DATE_OPS },
  { key: "product_bought", labelKey: "rules.field.product_bought", operators: [{ op: "is", value: "product" }] },
  { key: "rfm_segment", labelKey: "rules.field.rfm_segment", operators: [{ op: "is", value: "rfm" }, { op: "in", value: "rfmMulti" }] },
  { key: "activity", labelKey: "rules.field.activity", operators: [{ op: "active", value: "none" }, { op: "passive", value: "none" }] },
];

export function attributeField(a: CustomAttribute): FieldDef {
  const ops: Record<CustomAttribute["type"], OperatorDef[]> = {
    text: [{ op: "is", value: "text" }, { op: "contains", value: "text" }],
    number: [{ op: "eq", value: "number" }, { op: "gt", value: "number" }, { op: "lt", value: "number" }, { op: "between", value: "numberRange" }],
    date: [{ op: "before", value: "date" }, { op: "after", value: "date" }, { op: "between", value: "dateRange" }],
    choice: [{ op: "is", value: "choice" }, { op: "in", value: "choiceMulti" }],
    checkbox: [{ op: "is_true", value: "none" }, { op: "is_false", value: "none" }],
  };
  return { key: `attribute:${a.key}`, label: a.label || a.key, operators: ops[a.type] ?? ops.text };
}

export function defaultValue(kind: ValueKind): unknown {
  switch (kind) {
    case "none":
    case "number":
    case "days":
    case "label":
    case "product":
    case "rfm":
    case "choice":
      return null;
    case "numberRange":
      return [null, null];
    case "dateRange":
      return ["", ""];
    case "rfmMulti":
    case "choiceMulti":
      return [];
    default:
      return "";
  }
}

export function newRule(field: FieldDef): SegmentRule {
  const op = field.operators[0];
  return { field: field.key, operator: op.op, value: defaultValue(op.value) };
}

export function isGroup(node: SegmentRule | RuleGroup): node is RuleGroup {
  return (node as RuleGroup).rules !== undefined && (node as RuleGroup).op !== undefined;
}

/** Replaces the node at `path` (indices from the root group) using `fn`; returns a new tree. */
export function updateAt(root: RuleGroup, path: number[], fn: (node: SegmentRule | RuleGroup) => SegmentRule | RuleGroup | null): RuleGroup {
  if (path.length === 0) return (fn(root) as RuleGroup) ?? root;
  const [head, ...rest] = path;
  const rules = root.rules
    .map((child, i) => {
      if (i !== head) return child;
      if (rest.length === 0) return fn(child);
      return isGroup(child) ? updateAt(child, rest, fn) : child;
    })
    .filter((c): c is SegmentRule | RuleGroup => c !== null);
  return { ...root, rules };
}

export function countRules(group: RuleGroup): number {
  return group.rules.reduce((n, r) => n + (isGroup(r) ? countRules(r) : 1), 0);
}
