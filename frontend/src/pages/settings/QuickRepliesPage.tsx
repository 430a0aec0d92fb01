import { useEffect, useState, type FormEvent } from "react";
import { endpoints, type QuickReply } from "../../api";
import { Alert, ErrorAlert } from "../../components/Alert";
import { errorMessage, loadList, splitErrors } from "../../components/errors";
import { Field } from "../../components/Field";
import { Spinner } from "../../components/Spinner";
import { useI18n } from "../../i18n";

/** "/Ongkir Jawa" → "ongkir-jawa": the slug the API expects. */
export function toShortcut(value: string): string {
  return value
    .trim()
    .replace(/^\/+/, "")
    .toLowerCase()
    .replace(/\s+/g, "-")
    .replace(/[^a-z0-9_-]/g, "");
}

export function QuickRepliesPage() {
  const { t } = useI18n();
  const [items, setItems] = useState<QuickReply[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [shortcut, setShortcut] = useState("");
  const [text, setText] = useState("");
  const [editing, setEditing] = useState<number | null>(null);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[]>>({});
  const [alert, setAlert] = useState<string[]>([]);
  const [saving, setSaving] = useState(false);
  const [busyId, setBusyId] = useState<number | null>(null);

  useEffect(() => {
    return loadList(endpoints.quickReplies(), setItems, setError, t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const sorted = (list: QuickReply[]) => [...list].sort((a, b) => a.shortcut.localeCompare(b.shortcut));

  function reset() {
    setEditing(null);
    setShortcut("");
    setText("");
    setFieldErrors({});
    setAlert([]);
  }

  async function onSave(e: FormEvent) {
    e.preventDefault();
    const slug = toShortcut(shortcut);
    const errors: Record<string, string[]> = {};
    if (!slug) errors.shortcut = [t("quick.shortcutRequired")];
    if (!text.trim()) errors.text = [t("quick.textRequired")];
    setFieldErrors(errors);
    setAlert([]);
    if (Object.keys(errors).length) return;
    setSaving(true);
    try {
      if (editing !== null) {
        const updated = await endpoints.updateQuickReply(editing, { shortcut: slug, text });
        setItems((list) => sorted((list ?? []).map((q) => (q.id === editing ? (updated ? { ...q, ...updated } : { ...q, shortcut: slug, text }) : q))));
      } else {
        const created = await endpoints.createQuickReply({ shortcut: slug, text });
        setItems((list) => sorted([...(list ?? []), created]));
      }
      reset();
    } catch (err) {
      const split = splitErrors(err, ["shortcut", "text"], t);
      setFieldErrors(split.fields);
      setAlert(split.alert);
    } finally {
      setSaving(false);
    }
  }

  async function remove(item: QuickReply) {
    if (!window.confirm(t("quick.confirmDelete", { shortcut: item.shortcut }))) return;
    setBusyId(item.id);
    setError(null);
    try {
      await endpoints.deleteQuickReply(item.id);
      setItems((list) => (list ?? []).filter((q) => q.id !== item.id));
      if (editing === item.id) reset();
    } catch (err) {
      setError(errorMessage(err, t));
    } finally {
      setBusyId(null);
    }
  }

  return (
    <div className="stack">
      <div className="card">
        <h2>{editing !== null ? t("quick.edit") : t("quick.new")}</h2>
        <p className="muted small">{t("quick.intro")}</p>
        <form className="form" onSubmit={onSave} noValidate data-testid="quick-reply-form">
          <ErrorAlert messages={alert} />
          <Field
            id="quick_shortcut"
            label={t("quick.shortcut")}
            value={shortcut}
            onChange={(e) => setShortcut(e.target.value)}
            onBlur={() => setShortcut((s) => toShortcut(s))}
            errors={fieldErrors.shortcut}
            data-testid="quick-reply-shortcut"
            placeholder="ongkir"
            hint={t("quick.shortcutHint")}
            autoComplete="off"
          />
          <div className={`field${fieldErrors.text ? " field-invalid" : ""}`}>
            <label htmlFor="quick_text">{t("quick.text")}</label>
            <textarea id="quick_text" rows={3} value={text} onChange={(e) => setText(e.target.value)} data-testid="quick-reply-text" />
            {fieldErrors.text ? (
              <div className="field-error" data-testid="quick_text-error">
                {fieldErrors.text.join(" ")}
              </div>
            ) : null}
          </div>
          <div className="button-row">
            <button type="submit" className="btn btn-primary" disabled={saving} data-testid="quick-reply-save">
              {editing !== null ? t("common.save") : t("quick.add")}
            </button>
            {editing !== null ? (
              <button type="button" className="btn btn-ghost" onClick={reset}>
                {t("common.cancel")}
              </button>
            ) : null}
          </div>
        </form>
      </div>

      <div className="card">
        <h2>{t("quick.title")}</h2>
        {error ? (
          <Alert kind="error" testId="quick-replies-error">
            {error}
          </Alert>
        ) : null}
        {items === null ? (
          <Spinner />
        ) : items.length === 0 ? (
          <p className="muted">{t("quick.empty")}</p>
        ) : (
          <div className="table-wrap">
            <table className="table" data-testid="quick-replies-table">
              <thead>
                <tr>
                  <th>{t("quick.shortcut")}</th>
                  <th>{t("quick.text")}</th>
                  <th className="actions" />
                </tr>
              </thead>
              <tbody>
                {items.map((q) => (
                  <tr key={q.id} data-testid={`quick-reply-row-${q.id}`}>
                    <td data-label={t("quick.shortcut")}>
                      <code>/{q.shortcut}</code>
                    </td>
                    <td data-label={t("quick.text")} className="cell-text">
                      {q.text}
                    </td>
                    <td className="actions">
                      <button
                        type="button"
                        className="btn btn-ghost btn-sm"
                        data-testid={`quick-reply-edit-${q.id}`}
                        onClick={() => {
                          setEditing(q.id);
                          setShortcut(q.shortcut);
                          setText(q.text);
                          setFieldErrors({});
                          setAlert([]);
                        }}
                      >
                        {t("common.edit")}
                      </button>
                      <button type="button" className="btn btn-danger-ghost btn-sm" disabled={busyId === q.id} data-testid={`quick-reply-delete-${q.id}`} onClick={() => void remove(q)}>
                        {t("common.delete")}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </div>
  );
}
