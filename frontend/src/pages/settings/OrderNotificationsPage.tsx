import { useEffect, useState, type FormEvent } from "react";
import { endpoints, type OrderNotificationStatus, type OrderNotifications, type WaTemplate } from "../../api";
import { Alert } from "../../components/Alert";
import { errorMessage } from "../../components/errors";
import { Spinner } from "../../components/Spinner";
import { useI18n } from "../../i18n";
import { useSession } from "../../session";
import { statusKey } from "../orders/OrderStatusBadge";

const STATUSES: OrderNotificationStatus[] = ["confirmed", "paid", "shipped"];

/** Which WhatsApp (utility) template is sent to the customer when an order reaches a status. */
export function OrderNotificationsPage() {
  const { t } = useI18n();
  const { session } = useSession();
  const canManage = session?.role === "owner" || session?.role === "admin";
  const [value, setValue] = useState<OrderNotifications | null>(null);
  const [templates, setTemplates] = useState<WaTemplate[]>([]);
  const [result, setResult] = useState<{ kind: "success" | "error"; text: string } | null>(null);
  const [saving, setSaving] = useState(false);

  useEffect(() => {
    let cancelled = false;
    endpoints.orderNotifications().then(
      (v) => !cancelled && setValue({ confirmed: v?.confirmed ?? null, paid: v?.paid ?? null, shipped: v?.shipped ?? null }),
      (err) => {
        if (cancelled) return;
        setValue({ confirmed: null, paid: null, shipped: null });
        setResult({ kind: "error", text: errorMessage(err, t) });
      },
    );
    endpoints.templates().then((list) => !cancelled && setTemplates(list), () => {});
    return () => {
      cancelled = true;
    };
  }, [t]);

  const utility = templates.filter((tpl) => tpl.category.toUpperCase() === "UTILITY");

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (!value) return;
    setSaving(true);
    setResult(null);
    try {
      setValue(await endpoints.saveOrderNotifications(value));
      setResult({ kind: "success", text: t("orderNotify.saved") });
    } catch (err) {
      setResult({ kind: "error", text: errorMessage(err, t) });
    } finally {
      setSaving(false);
    }
  }

  return (
    <div className="card">
      <h2>{t("orderNotify.title")}</h2>
      <p className="muted small">{t("orderNotify.intro")}</p>
      {result ? (
        <Alert kind={result.kind} testId="order-notifications-result">
          {result.text}
        </Alert>
      ) : null}
      {value === null ? (
        <Spinner />
      ) : (
        <form className="form" onSubmit={onSubmit} data-testid="order-notifications-form">
          {utility.length === 0 ? <Alert kind="info">{t("orderNotify.noTemplates")}</Alert> : null}
          {STATUSES.map((s) => (
            <div key={s} className="field field-narrow">
              <label htmlFor={`order_notify_${s}`}>{t("orderNotify.when", { status: t(statusKey(s)) })}</label>
              <select
                id={`order_notify_${s}`}
                value={value[s] === null ? "" : String(value[s])}
                disabled={!canManage}
                onChange={(e) => setValue({ ...value, [s]: e.target.value ? Number(e.target.value) : null })}
                data-testid={`order-notify-template-${s}`}
              >
                <option value="">{t("orderNotify.none")}</option>
                {value[s] !== null && !utility.some((tpl) => tpl.id === value[s]) ? <option value={String(value[s])}>#{value[s]}</option> : null}
                {utility.map((tpl) => (
                  <option key={tpl.id} value={String(tpl.id)}>
                    {tpl.name} ({tpl.language})
                  </option>
                ))}
              </select>
            </div>
          ))}
          {canManage ? (
            <div className="button-row">
              <button type="submit" className="btn btn-primary" disabled={saving} data-testid="order-notifications-save">
                {t("common.save")}
              </button>
            </div>
          ) : (
            <p className="muted small">{t("orderNotify.readOnly")}</p>
          )}
        </form>
      )}
    </div>
  );
}
