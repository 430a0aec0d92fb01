import { useEffect, useState } from "react";
import { Link } from "react-router-dom";
import { Alert } from "../../components/Alert";
import { EmptyState } from "../../components/EmptyState";
import { errorMessage } from "../../components/errors";
import { Icon } from "../../components/Icon";
import { Spinner } from "../../components/Spinner";
import { useI18n } from "../../i18n";
import { useFormatters } from "../../session";
import { broadcastApi, isLive, type Broadcast } from "./api";
import { ProgressBar, StatusBadge, useMoney, useNumber } from "./parts";

/** Refresh of the list while something is sending, so its bar moves without the detail page. */
export const LIST_REFRESH_MS = 5000;

/** Where a row leads: a draft is edited, anything else has its detail page. */
export function broadcastLink(b: Pick<Broadcast, "id" | "status">): string {
  return b.status === "draft" ? `/broadcasts/${b.id}/edit` : `/broadcasts/${b.id}`;
}

export function BroadcastsPage() {
  const { t } = useI18n();
  const fmt = useFormatters();
  const money = useMoney();
  const num = useNumber();
  const [broadcasts, setBroadcasts] = useState<Broadcast[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const anyLive = broadcasts?.some((b) => isLive(b.status)) ?? false;

  useEffect(() => {
    let cancelled = false;
    const load = () =>
      broadcastApi.list().then(
        (page) => {
          if (cancelled) return;
          setBroadcasts(page?.results ?? []);
          setError(null);
        },
        (err) => {
          if (cancelled) return;
          setBroadcasts((old) => old ?? []);
          setError(errorMessage(err, t));
        },
      );
    void load();
    const timer = anyLive ? window.setInterval(() => void load(), LIST_REFRESH_MS) : undefined;
    return () => {
      cancelled = true;
      window.clearInterval(timer);
    };
  }, [t, anyLive]);

  return (
    <section className="page">
      <header className="page-header">
        <h1>{t("nav.broadcasts")}</h1>
        <div className="header-actions">
          <Link className="btn btn-primary" to="/broadcasts/new" data-testid="broadcast-new">
            {t("broadcasts.new")}
          </Link>
        </div>
      </header>
      {error ? <Alert kind="error">{error}</Alert> : null}
      <div className="card card-flush">
        {broadcasts === null ? (
          <Spinner />
        ) : broadcasts.length === 0 ? (
          <EmptyState icon={<Icon name="broadcasts" className="icon icon-xl" />} title={t("broadcasts.empty")}>
            {t("page.broadcasts.text")}
          </EmptyState>
        ) : (
          <div className="table-wrap">
            <table className="table" data-testid="broadcasts-table">
              <thead>
                <tr>
                  <th>{t("broadcasts.col.name")}</th>
                  <th>{t("broadcasts.col.status")}</th>
                  <th className="num">{t("broadcasts.col.audience")}</th>
                  <th>{t("broadcasts.col.progress")}</th>
                  <th>{t("broadcasts.col.when")}</th>
                  <th className="num">{t("broadcasts.col.cost")}</th>
                </tr>
              </thead>
              <tbody>
                {broadcasts.map((b) => {
                  const p = b.progress;
                  const audience = p?.total || b.recipient_count;
                  const when = b.status === "scheduled" ? b.scheduled_at : (b.started_at ?? b.created_at);
                  return (
                    <tr key={b.id} data-testid={`broadcast-row-${b.id}`}>
                      <td>
                        <Link to={broadcastLink(b)} data-testid={`broadcast-link-${b.id}`}>
                          {b.name}
                        </Link>
                        <div className="muted small">{b.template?.name}</div>
                      </td>
                      <td>
                        <StatusBadge status={b.status} testId={`broadcast-status-${b.id}`} />
                      </td>
                      <td className="num" data-testid={`broadcast-audience-${b.id}`}>
                        {audience ? num(audience) : "—"}
                      </td>
                      <td>
                        {p && (isLive(b.status) || b.status === "completed") && p.total ? (
                          <ProgressBar progress={p} testId={`broadcast-progress-${b.id}`} />
                        ) : null}
                      </td>
                      <td className="small">{fmt.dateTime(when)}</td>
                      <td className="num">{b.status === "draft" ? "—" : money(b.estimated_cost, b.currency)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </section>
  );
}
