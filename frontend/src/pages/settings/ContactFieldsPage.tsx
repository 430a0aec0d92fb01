import { useEffect, useState, type FormEvent } from "react";
import { endpoints, type AttributeType, type CustomAttribute, type Label } from "../../api";
import { Alert } from "../../components/Alert";
import { errorMessage } from "../../components/errors";
import { Spinner } from "../../components/Spinner";
import { useI18n, type TKey } from "../../i18n";

const TYPES: AttributeType[] = ["text", "number", "date", "choice", "checkbox"];

/** Labels and custom contact attributes. */
export function ContactFieldsPage() {
  const { t } = useI18n();
  const [labels, setLabels] = useState<Label[] | null>(null);
  const [attributes, setAttributes] = useState<CustomAttribute[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [labelName, setLabelName] = useState("");
  const [labelColor, setLabelColor] = useState("#0f766e");
  const [attr, setAttr] = useState({ key: "", label: "", type: "text" as AttributeType, choices: "" });

  useEffect(() => {
    endpoints.labels().then(setLabels, (err) => {
      setLabels([]);
      setError(errorMessage(err, t));
    });
    endpoints.attributes().then(setAttributes, () => setAttributes([]));
  }, [t]);

  async function run(action: () => Promise<void>) {
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(errorMessage(err, t));
    }
  }

  function addLabel(e: FormEvent) {
    e.preventDefault();
    if (!labelName.trim()) return;
    void run(async () => {
      const created = await endpoints.createLabel({ name: labelName.trim(), color: labelColor });
      setLabels((old) => [...(old ?? []), created]);
      setLabelName("");
    });
  }

  function addAttribute(e: FormEvent) {
    e.preventDefault();
    if (!attr.key.trim()) return;
    void run(async () => {
      const created = await endpoints.createAttribute({
        key: attr.key.trim(),
        label: attr.label.trim() || attr.key.trim(),
        type: attr.type,
        choices: attr.type === "choice" ? attr.choices.split(",").map((c) => c.trim()).filter(Boolean) : [],
      });
      setAttributes((old) => [...(old ?? []), created]);
      setAttr({ key: "", label: "", type: "text", choices: "" });
    });
  }

  return (
    <div className="stack">
      {error ? (
        <Alert kind="error" testId="contact-fields-error">
          {error}
        </Alert>
      ) : null}
      <div className="card">
        <h2>{t("labels.title")}</h2>
        {labels === null ? (
          <Spinner />
        ) : (
          <ul className="stage-list" data-testid="labels-list">
            {labels.map((l) => (
              <li key={l.id} data-testid={`label-row-${l.id}`}>
                <input
                  type="color"
                  aria-label={t("labels.color")}
                  value={l.color || "#0f766e"}
                  onChange={(e) => void run(async () => setLabels((old) => (old ?? []).map((x) => (x.id === l.id ? { ...x, color: e.target.value } : x))))}
                  onBlur={(e) => void run(async () => void (await endpoints.updateLabel(l.id, { color: e.target.value })))}
                />
                <input
                  aria-label={t("labels.name")}
                  defaultValue={l.name}
                  onBlur={(e) => e.target.value.trim() && e.target.value !== l.name && void run(async () => void (await endpoints.updateLabel(l.id, { name: e.target.value.trim() })))}
                />
                <span className="muted small">{t("labels.count", { n: l.contact_count ?? 0 })}</span>
                <button
                  type="button"
                  className="btn btn-danger-ghost btn-sm"
                  onClick={() =>
                    window.confirm(t("labels.confirmDelete", { name: l.name })) &&
                    void run(async () => {
                      await endpoints.deleteLabel(l.id);
                      setLabels((old) => (old ?? []).filter((x) => x.id !== l.id));
                    })
                  }
                  data-testid={`label-delete-${l.id}`}
                >
                  {t("common.delete")}
                </button>
              </li>
            ))}
          </ul>
        )}
        <form className="inline-form" onSubmit={addLabel}>
          <input type="color" aria-label={t("labels.color")} value={labelColor} onChange={(e) => setLabelColor(e.target.value)} />
          <input aria-label={t("labels.name")} placeholder={t("labels.name")} value={labelName} onChange={(e) => setLabelName(e.target.value)} data-testid="label-new-name" />
          <button type="submit" className="btn btn-secondary btn-sm" data-testid="label-add">
            {t("labels.add")}
          </button>
        </form>
      </div>
      <div className="card">
        <h2>{t("attributes.title")}</h2>
        <p className="muted small">{t("attributes.intro")}</p>
        {attributes === null ? (
          <Spinner />
        ) : (
          <ul className="stage-list" data-testid="attributes-list">
            {attributes.map((a) => (
              <li key={a.id} data-testid={`attribute-row-${a.id}`}>
                <code>{a.key}</code>
                <span>{a.label}</span>
                <span className="badge badge-closed">{t(`attributes.type.${a.type}` as TKey)}</span>
                {a.choices?.length ? <span className="muted small">{a.choices.join(", ")}</span> : null}
                <button
                  type="button"
                  className="btn btn-danger-ghost btn-sm"
                  onClick={() =>
                    window.confirm(t("attributes.confirmDelete", { name: a.label || a.key })) &&
                    void run(async () => {
                      await endpoints.deleteAttribute(a.id);
                      setAttributes((old) => (old ?? []).filter((x) => x.id !== a.id));
                    })
                  }
                  data-testid={`attribute-delete-${a.id}`}
                >
                  {t("common.delete")}
                </button>
              </li>
            ))}
          </ul>
        )}
        <form className="inline-form" onSubmit={addAttribute}>
          <input aria-label={t("attributes.key")} placeholder={t("attributes.key")} value={attr.key} onChange={(e) => setAttr({ ...attr, key: e.target.value })} data-testid="attribute-new-key" />
          <input aria-label={t("attributes.label")} placeholder={t("attributes.label")} value={attr.label} onChange={(e) => setAttr({ ...attr, label: e.target.value })} data-testid="attribute-new-label" />
          <select aria-label={t("attributes.type")} value={attr.type} onChange={(e) => setAttr({ ...attr, type: e.target.value as AttributeType })} data-testid="attribute-new-type">
            {TYPES.map((ty) => (
              <option key={ty} value={ty}>
                {t(`attributes.type.${ty}` as TKey)}
              </option>
            ))}
          </select>
          {attr.type === "choice" ? (
            <input aria-label={t("attributes.choices")} placeholder={t("attributes.choices")} value={attr.choices} onChange={(e) => setAttr({ ...attr, choices: e.target.value })} data-testid="attribute-new-choices" />
          ) : null}
          <button type="submit" className="btn btn-secondary btn-sm" data-testid="attribute-add">
            {t("attributes.add")}
          </button>
        </form>
      </div>
    </div>
  );
}
