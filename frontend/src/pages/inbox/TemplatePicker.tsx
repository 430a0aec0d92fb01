import { useState, type FormEvent } from "react";
import { ApiError, endpoints, type Message, type WaTemplate } from "../../api";
import { ErrorAlert } from "../../components/Alert";
import { splitErrors } from "../../components/errors";
import { useI18n } from "../../i18n";

/** Substitutes {{1}}, {{2}}… in a template body; empty values keep their placeholder. */
export function fillTemplate(body: string, params: string[]): string {
  return body.replace(/\{\{\s*(\d+)\s*\}\}/g, (m, n: string) => {
    const value = params[Number(n) - 1];
    return value && value.trim() ? value : m;
  });
}

/** Highest {{n}} used in the body (for templates whose parameter_count is missing). */
function countParams(template: WaTemplate): number {
  if (typeof template.parameter_count === "number") return template.parameter_count;
  let max = 0;
  for (const match of template.body_text.matchAll(/\{\{\s*(\d+)\s*\}\}/g)) max = Math.max(max, Number(match[1]));
  return max;
}

export function isApproved(template: WaTemplate): boolean {
  return !template.status || template.status.toUpperCase() === "APPROVED";
}

export function TemplatePicker({
  conversationId,
  templates,
  onSent,
}: {
  conversationId: number;
  templates: WaTemplate[] | null;
  onSent: (message: Message) => void;
}) {
  const { t } = useI18n();
  const [templateId, setTemplateId] = useState<string>("");
  const [params, setParams] = useState<string[]>([]);
  const [sending, setSending] = useState(false);
  const [paramErrors, setParamErrors] = useState<string[]>([]);
  const [alert, setAlert] = useState<string[]>([]);

  const template = templates?.find((tpl) => String(tpl.id) === templateId) ?? null;
  const count = template ? countParams(template) : 0;

  function choose(id: string) {
    setTemplateId(id);
    const next = templates?.find((tpl) => String(tpl.id) === id);
    setParams(Array.from({ length: next ? countParams(next) : 0 }, () => ""));
    setParamErrors([]);
    setAlert([]);
  }

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (!template) return;
    setSending(true);
    setParamErrors([]);
    setAlert([]);
    try {
      const message = await endpoints.sendTemplate(conversationId, template.id, params.slice(0, count).map((p) => p.trim()));
      onSent(message);
      choose("");
    } catch (err) {
      const split = splitErrors(err, ["parameters"], t);
      if (err instanceof ApiError && err.code === "opted_out" && !err.detail) split.alert.push(t("inbox.optedOut"));
      setParamErrors(split.fields.parameters ?? []);
      setAlert(split.alert);
    } finally {
      setSending(false);
    }
  }

  if (templates === null) return <p className="muted small">{t("common.loading")}</p>;

  return (
    <form className="template-picker" onSubmit={onSubmit} noValidate data-testid="template-picker">
      <ErrorAlert messages={alert} />
      {templates.length === 0 ? (
        <p className="muted small" data-testid="templates-empty">
          {t("inbox.noTemplates")}
        </p>
      ) : null}
      <div className="field">
        <label htmlFor="template-select">{t("inbox.template")}</label>
        <select id="template-select" data-testid="template-select" value={templateId} onChange={(e) => choose(e.target.value)}>
          <option value="">{t("inbox.chooseTemplate")}</option>
          {templates.map((tpl) => (
            <option key={tpl.id} value={tpl.id} disabled={!isApproved(tpl)}>
              {tpl.name} ({tpl.language}){isApproved(tpl) ? "" : ` — ${tpl.status}`}
            </option>
          ))}
        </select>
      </div>
      {template ? (
        <>
          {params.map((value, i) => (
            <div className="field" key={i}>
              <label htmlFor={`template-param-${i + 1}`}>{t("inbox.templateParam", { n: i + 1 })}</label>
              <input
                id={`template-param-${i + 1}`}
                data-testid={`template-param-${i + 1}`}
                value={value}
                onChange={(e) => setParams((list) => list.map((p, j) => (j === i ? e.target.value : p)))}
                autoComplete="off"
              />
            </div>
          ))}
          {paramErrors.length ? (
            <div className="field-error" data-testid="template-params-error">
              {paramErrors.join(" ")}
            </div>
          ) : null}
          <div className="template-preview" data-testid="template-preview">
            <span className="label">{t("inbox.preview")}</span>
            <p>{fillTemplate(template.body_text, params)}</p>
          </div>
        </>
      ) : null}
      <div className="reply-actions">
        <button type="submit" className="btn btn-primary" disabled={!template || sending} data-testid="template-send">
          {t("inbox.sendTemplate")}
        </button>
      </div>
    </form>
  );
}
