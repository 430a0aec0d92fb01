import { useCallback, useEffect, useState, type DragEvent, type FormEvent } from "react";
import { Link } from "react-router-dom";
import { ApiError, endpoints, type BoardStage, type ContactRef, type Deal, type DealDetail, type Member, type PipelineMetrics, type Stage, type StageKind } from "../../api";
import { Alert, ErrorAlert } from "../../components/Alert";
import { ContactPicker } from "../../components/ContactPicker";
import { errorMessage, splitErrors } from "../../components/errors";
import { Field } from "../../components/Field";
import { Modal } from "../../components/Modal";
import { Spinner } from "../../components/Spinner";
import { formatMoney, formatNumber, formatRate, formatYmd, shiftYmd, todayYmd } from "../../format";
import { useI18n, type TKey } from "../../i18n";
import { useFormatters, useSession, useShop } from "../../session";
import { FunnelBars } from "../analytics/AnalyticsPage";

export const PERIODS = [7, 30, 90, 365] as const;
const STAGE_KINDS: StageKind[] = ["open", "won", "lost"];

/** Moves a deal inside a copy of the board (optimistic update before the server answers). */
export function moveOnBoard(stages: BoardStage[], dealId: number, toStageId: number, position: number): BoardStage[] {
  let moved: Deal | null = null;
  const without = stages.map((s) => {
    const deal = s.deals.find((d) => d.id === dealId);
    if (!deal) return s;
    moved = deal;
    return { ...s, deals: s.deals.filter((d) => d.id !== dealId), count: s.count - 1, total_value: Number(s.total_value) - (Number(deal.value) || 0) };
  });
  if (!moved) return stages;
  const deal: Deal = moved;
  return without.map((s) => {
    if (s.id !== toStageId) return s;
    const deals = [...s.deals];
    deals.splice(Math.max(0, Math.min(position, deals.length)), 0, deal);
    return { ...s, deals, count: s.count + 1, total_value: Number(s.total_value) + (Number(deal.value) || 0) };
  });
}

interface PendingMove {
  deal: Deal;
  stageId: number;
  position: number;
  error?: string;
}

function DealForm({ stages, members, onSaved, onCancel }: { stages: BoardStage[]; members: Member[]; onSaved: () => void; onCancel: () => void }) {
  const { t } = useI18n();
  const { session } = useSession();
  const [title, setTitle] = useState("");
  const [contact, setContact] = useState<ContactRef | null>(null);
  const [value, setValue] = useState("");
  const [expectedClose, setExpectedClose] = useState("");
  const [ownerId, setOwnerId] = useState<string>(session ? String(session.user.id) : "");
  const [stageId, setStageId] = useState<string>(() => String(stages.find((s) => s.kind === "open")?.id ?? stages[0]?.id ?? ""));
  const [notes, setNotes] = useState("");
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[]>>({});
  const [alert, setAlert] = useState<string[]>([]);
  const [saving, setSaving] = useState(false);

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (!title.trim()) {
      setFieldErrors({ title: [t("deals.titleRequired")] });
      return;
    }
    setSaving(true);
    setFieldErrors({});
    setAlert([]);
    try {
      await endpoints.createDeal({
        title: title.trim(),
        contact_id: contact?.id ?? null,
        value: Math.round(Number(value) || 0),
        expected_close: expectedClose || null,
        owner_id: ownerId ? Number(ownerId) : null,
        stage_id: Number(stageId),
        notes,
      });
      onSaved();
    } catch (err) {
      const split = splitErrors(err, ["title", "contact_id", "value", "expected_close", "owner_id", "stage_id"], t);
      setFieldErrors(split.fields);
      setAlert(split.alert);
    } finally {
      setSaving(false);
    }
  }

  return (
    <form className="form" onSubmit={onSubmit} noValidate data-testid="deal-form">
      <ErrorAlert messages={alert} />
      <Field id="deal_title" label={t("deals.title")} value={title} onChange={(e) => setTitle(e.target.value)} errors={fieldErrors.title} data-testid="deal-title" />
      <ContactPicker id="deal_contact" label={t("deals.contact")} value={contact} onChange={setContact} testId="deal-contact" errors={fieldErrors.contact_id} />
      <div className="form-grid form-grid-2">
        <Field id="deal_value" label={t("deals.value")} type="number" min={0} step={1} value={value} onChange={(e) => setValue(e.target.value)} errors={fieldErrors.value} data-testid="deal-value" />
        <Field
          id="deal_expected_close"
          label={t("deals.expectedClose")}
          type="date"
          value={expectedClose}
          onChange={(e) => setExpectedClose(e.target.value)}
          errors={fieldErrors.expected_close}
          data-testid="deal-expected-close"
          optionalLabel={t("common.optional")}
        />
        <div className="field">
          <label htmlFor="deal_stage">{t("deals.stage")}</label>
          <select id="deal_stage" value={stageId} onChange={(e) => setStageId(e.target.value)} data-testid="deal-stage">
            {stages.map((s) => (
              <option key={s.id} value={String(s.id)}>
                {s.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="deal_owner">{t("contacts.owner")}</label>
          <select id="deal_owner" value={ownerId} onChange={(e) => setOwnerId(e.target.value)} data-testid="deal-owner">
            <option value="">{t("contacts.noOwner")}</option>
            {members.map((m) => (
              <option key={m.user_id} value={String(m.user_id)}>
                {m.name || m.email}
              </option>
            ))}
          </select>
        </div>
      </div>
      <div className="field">
        <label htmlFor="deal_notes">{t("contacts.notes")}</label>
        <textarea id="deal_notes" rows={2} value={notes} onChange={(e) => setNotes(e.target.value)} data-testid="deal-notes" />
      </div>
      <div className="button-row">
        <button type="submit" className="btn btn-primary" disabled={saving} data-testid="deal-save">
          {t("common.save")}
        </button>
        <button type="button" className="btn btn-ghost" onClick={onCancel}>
          {t("common.cancel")}
        </button>
      </div>
    </form>
  );
}

function DealDrawer({ dealId, members, onClose, onChanged }: { dealId: number; members: Member[]; onClose: () => void; onChanged: () => void }) {
  const { t, lang } = useI18n();
  const fmt = useFormatters();
  const [deal, setDeal] = useState<DealDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [form, setForm] = useState({ title: "", value: "", expected_close: "", owner_id: "", notes: "" });
  const [saving, setSaving] = useState(false);

  useEffect(() => {
    let cancelled = false;
    endpoints.deal(dealId).then(
      (d) => {
        if (cancelled) return;
        setDeal(d);
        setForm({ title: d.title, value: String(Math.round(Number(d.value) || 0)), expected_close: d.expected_close ?? "", owner_id: d.owner_id == null ? "" : String(d.owner_id), notes: d.notes ?? "" });
      },
      (err) => !cancelled && setError(errorMessage(err, t)),
    );
    return () => {
      cancelled = true;
    };
  }, [dealId, t]);

  async function save(e: FormEvent) {
    e.preventDefault();
    setSaving(true);
    setError(null);
    try {
      setDeal(
        await endpoints.updateDeal(dealId, {
          title: form.title.trim(),
          value: Math.round(Number(form.value) || 0),
          expected_close: form.expected_close || null,
          owner_id: form.owner_id ? Number(form.owner_id) : null,
          notes: form.notes,
        }),
      );
      onChanged();
    } catch (err) {
      setError(errorMessage(err, t));
    } finally {
      setSaving(false);
    }
  }

  return (
    <Modal title={deal?.title ?? t("deals.deal")} onClose={onClose} testId="deal-drawer">
      {error ? (
        <Alert kind="error" testId="deal-error">
          {error}
        </Alert>
      ) : null}
      {!deal ? (
        error ? null : <Spinner />
      ) : (
        <div className="stack">
          {deal.contact ? (
            <p>
              <Link to={`/contacts/${deal.contact.id}`}>{deal.contact.name || deal.contact.phone}</Link>
            </p>
          ) : null}
          <form className="form" onSubmit={save}>
            <Field id="deal_edit_title" label={t("deals.title")} value={form.title} onChange={(e) => setForm({ ...form, title: e.target.value })} data-testid="deal-edit-title" />
            <div className="form-grid form-grid-2">
              <Field id="deal_edit_value" label={t("deals.value")} type="number" min={0} value={form.value} onChange={(e) => setForm({ ...form, value: e.target.value })} data-testid="deal-edit-value" />
              <Field id="deal_edit_close" label={t("deals.expectedClose")} type="date" value={form.expected_close} onChange={(e) => setForm({ ...form, expected_close: e.target.value })} />
              <div className="field">
                <label htmlFor="deal_edit_owner">{t("contacts.owner")}</label>
                <select id="deal_edit_owner" value={form.owner_id} onChange={(e) => setForm({ ...form, owner_id: e.target.value })}>
                  <option value="">{t("contacts.noOwner")}</option>
                  {members.map((m) => (
                    <option key={m.user_id} value={String(m.user_id)}>
                      {m.name || m.email}
                    </option>
                  ))}
                </select>
              </div>
            </div>
            <div className="field">
              <label htmlFor="deal_edit_notes">{t("contacts.notes")}</label>
              <textarea id="deal_edit_notes" rows={2} value={form.notes} onChange={(e) => setForm({ ...form, notes: e.target.value })} />
            </div>
            <div className="button-row">
              <button type="submit" className="btn btn-primary btn-sm" disabled={saving} data-testid="deal-edit-save">
                {t("common.save")}
              </button>
            </div>
          </form>
          {deal.lost_reason ? (
            <p className="small">
              <strong>{t("deals.lostReason")}:</strong> {deal.lost_reason}
            </p>
          ) : null}
          {deal.expected_close ? <p className="muted small">{t("deals.expectedCloseOn", { date: formatYmd(deal.expected_close, lang) })}</p> : null}
          <div>
            <h3 className="subhead">{t("deals.history")}</h3>
            <ol className="timeline" data-testid="deal-history">
              {deal.history.map((h, i) => (
                <li key={i} className="timeline-item">
                  <div className="timeline-meta">
                    <time dateTime={h.changed_at}>{fmt.dateTime(h.changed_at)}</time>
                    {h.actor_name ? <span className="muted">· {h.actor_name}</span> : null}
                  </div>
                  <div>{h.from_stage ? `${h.from_stage} → ${h.to_stage}` : h.to_stage}</div>
                </li>
              ))}
            </ol>
          </div>
        </div>
      )}
    </Modal>
  );
}

function StageEditor({ onChanged }: { onChanged: () => void }) {
  const { t } = useI18n();
  const [stages, setStages] = useState<Stage[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [newName, setNewName] = useState("");
  const [newKind, setNewKind] = useState<StageKind>("open");

  const load = useCallback(async () => {
    try {
      setStages([...(await endpoints.stages())].sort((a, b) => a.position - b.position));
    } catch (err) {
      setStages([]);
      setError(errorMessage(err, t));
    }
  }, [t]);

  useEffect(() => {
    void load();
  }, [load]);

  async function run(action: () => Promise<unknown>) {
    setError(null);
    try {
      await action();
      await load();
      onChanged();
    } catch (err) {
      setError(errorMessage(err, t));
    }
  }

  return (
    <div className="card" data-testid="stage-editor">
      <h2>{t("stages.title")}</h2>
      {error ? (
        <Alert kind="error" testId="stage-error">
          {error}
        </Alert>
      ) : null}
      {stages === null ? (
        <Spinner />
      ) : (
        <ul className="stage-list">
          {stages.map((s, i) => (
            <li key={s.id} data-testid={`stage-row-${s.id}`}>
              <input
                aria-label={t("stages.name")}
                defaultValue={s.name}
                onBlur={(e) => e.target.value.trim() && e.target.value !== s.name && void run(() => endpoints.updateStage(s.id, { name: e.target.value.trim() }))}
                data-testid={`stage-name-${s.id}`}
              />
              <select aria-label={t("stages.kind")} value={s.kind} onChange={(e) => void run(() => endpoints.updateStage(s.id, { kind: e.target.value as StageKind }))} data-testid={`stage-kind-${s.id}`}>
                {STAGE_KINDS.map((k) => (
                  <option key={k} value={k}>
                    {t(`stages.kind.${k}` as TKey)}
                  </option>
                ))}
              </select>
              <button type="button" className="btn btn-ghost btn-sm" disabled={i === 0} aria-label={t("stages.up")} onClick={() => void run(() => endpoints.updateStage(s.id, { position: stages[i - 1].position - 1 }))}>
                ↑
              </button>
              <button
                type="button"
                className="btn btn-danger-ghost btn-sm"
                onClick={() => window.confirm(t("stages.confirmDelete", { name: s.name })) && void run(() => endpoints.deleteStage(s.id))}
                data-testid={`stage-delete-${s.id}`}
              >
                {t("common.delete")}
              </button>
            </li>
          ))}
        </ul>
      )}
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (!newName.trim()) return;
          const position = (stages ?? []).reduce((m, s) => Math.max(m, s.position), 0) + 1;
          void run(() => endpoints.createStage({ name: newName.trim(), kind: newKind, position })).then(() => setNewName(""));
        }}
      >
        <input aria-label={t("stages.name")} placeholder={t("stages.newName")} value={newName} onChange={(e) => setNewName(e.target.value)} data-testid="stage-new-name" />
        <select aria-label={t("stages.kind")} value={newKind} onChange={(e) => setNewKind(e.target.value as StageKind)} data-testid="stage-new-kind">
          {STAGE_KINDS.map((k) => (
            <option key={k} value={k}>
              {t(`stages.kind.${k}` as TKey)}
            </option>
          ))}
        </select>
        <button type="submit" className="btn btn-secondary btn-sm" data-testid="stage-add">
          {t("stages.add")}
        </button>
      </form>
    </div>
  );
}

export function PipelinePage() {
  const { t, lang } = useI18n();
  const { session } = useSession();
  const shop = useShop();
  const canManage = session?.role === "owner" || session?.role === "admin";
  const [period, setPeriod] = useState<number>(30);
  const [ownerId, setOwnerId] = useState<string>("");
  const [stages, setStages] = useState<BoardStage[] | null>(null);
  const [metrics, setMetrics] = useState<PipelineMetrics | null>(null);
  const [members, setMembers] = useState<Member[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const [editingStages, setEditingStages] = useState(false);
  const [openDeal, setOpenDeal] = useState<number | null>(null);
  const [pending, setPending] = useState<PendingMove | null>(null);
  const [lostReason, setLostReason] = useState("");
  const [dragging, setDragging] = useState<number | null>(null);

  const owner = ownerId ? Number(ownerId) : null;

  const loadBoard = useCallback(async () => {
    try {
      const board = await endpoints.board(owner);
      setStages([...(board?.stages ?? [])].sort((a, b) => a.position - b.position));
    } catch (err) {
      setStages((s) => s ?? []);
      setError(errorMessage(err, t));
    }
  }, [owner, t]);

  const loadMetrics = useCallback(async () => {
    const to = todayYmd(shop?.timezone);
    const from = shiftYmd(to, -(period - 1));
    try {
      setMetrics(await endpoints.pipelineMetrics(from, to, owner));
    } catch {
      setMetrics(null);
    }
  }, [period, owner, shop?.timezone]);

  useEffect(() => {
    void loadBoard();
  }, [loadBoard]);
  useEffect(() => {
    void loadMetrics();
  }, [loadMetrics]);
  useEffect(() => {
    endpoints.members().then(setMembers, () => {});
  }, []);

  async function move(deal: Deal, stageId: number, position: number, reason?: string) {
    const target = stages?.find((s) => s.id === stageId);
    if (target?.kind === "lost" && !reason) {
      setLostReason("");
      setPending({ deal, stageId, position });
      return;
    }
    setError(null);
    setStages((s) => (s ? moveOnBoard(s, deal.id, stageId, position) : s));
    try {
      await endpoints.moveDeal(deal.id, reason ? { stage_id: stageId, position, lost_reason: reason } : { stage_id: stageId, position });
      setPending(null);
    } catch (err) {
      if (err instanceof ApiError && err.fieldErrors.lost_reason) {
        setPending({ deal, stageId, position, error: reason ? err.fieldErrors.lost_reason.join(" ") : undefined });
      } else {
        setPending(null);
        setError(errorMessage(err, t));
      }
    }
    await Promise.all([loadBoard(), loadMetrics()]);
  }

  function onDrop(e: DragEvent, stage: BoardStage, position: number) {
    e.preventDefault();
    e.stopPropagation();
    const id = Number(e.dataTransfer.getData("text/plain") || dragging);
    setDragging(null);
    const from = stages?.find((s) => s.deals.some((d) => d.id === id));
    const deal = from?.deals.find((d) => d.id === id);
    if (!deal || !from) return;
    // Dropping below itself in the same column: the removal shifts the target index by one.
    const current = from.deals.findIndex((d) => d.id === id);
    const pos = from.id === stage.id && current < position ? position - 1 : position;
    if (from.id === stage.id && pos === current) return;
    void move(deal, stage.id, pos);
  }

  return (
    <section className="page pipeline-page">
      <header className="page-header">
        <h1>{t("nav.pipeline")}</h1>
        <div className="header-actions">
          <select aria-label={t("pipeline.period")} value={String(period)} onChange={(e) => setPeriod(Number(e.target.value))} data-testid="pipeline-period">
            {PERIODS.map((p) => (
              <option key={p} value={String(p)}>
                {t("period.lastDays", { n: p })}
              </option>
            ))}
          </select>
          <select aria-label={t("contacts.owner")} value={ownerId} onChange={(e) => setOwnerId(e.target.value)} data-testid="pipeline-owner">
            <option value="">{t("contacts.allOwners")}</option>
            {members.map((m) => (
              <option key={m.user_id} value={String(m.user_id)}>
                {m.name || m.email}
              </option>
            ))}
          </select>
          {canManage ? (
            <button type="button" className="btn btn-ghost btn-sm" aria-pressed={editingStages} onClick={() => setEditingStages((v) => !v)} data-testid="stages-edit">
              {t("stages.title")}
            </button>
          ) : null}
          <button type="button" className="btn btn-primary btn-sm" onClick={() => setCreating(true)} data-testid="deal-new">
            {t("deals.new")}
          </button>
        </div>
      </header>

      <div className="metric-strip" data-testid="pipeline-metrics">
        <div className="metric">
          <span className="metric-label">{t("pipeline.closingRate")}</span>
          <strong className="metric-value" data-testid="pipeline-closing-rate">
            {metrics ? formatRate(metrics.closing_rate, lang) : "—"}
          </strong>
        </div>
        <div className="metric">
          <span className="metric-label">{t("pipeline.contacted")}</span>
          <strong className="metric-value">{metrics ? formatNumber(metrics.prospects_contacted, lang) : "—"}</strong>
        </div>
        <div className="metric">
          <span className="metric-label">{t("pipeline.won")}</span>
          <strong className="metric-value" data-testid="pipeline-won">
            {metrics ? formatNumber(metrics.won, lang) : "—"}
          </strong>
        </div>
        <div className="metric">
          <span className="metric-label">{t("pipeline.lost")}</span>
          <strong className="metric-value">{metrics ? formatNumber(metrics.lost, lang) : "—"}</strong>
        </div>
        <div className="metric">
          <span className="metric-label">{t("pipeline.avgDays")}</span>
          <strong className="metric-value">{metrics?.average_days_to_close != null ? t("pipeline.days", { n: formatNumber(metrics.average_days_to_close, lang) }) : "—"}</strong>
        </div>
      </div>

      {error ? (
        <Alert kind="error" testId="pipeline-error">
          {error}
        </Alert>
      ) : null}
      {editingStages && canManage ? <StageEditor onChanged={() => void loadBoard()} /> : null}

      {stages === null ? (
        <Spinner />
      ) : stages.length === 0 ? (
        <p className="muted">{t("pipeline.noStages")}</p>
      ) : (
        <div className="board" data-testid="pipeline-board">
          {stages.map((stage) => (
            <div
              key={stage.id}
              className={`board-col board-col-${stage.kind}`}
              data-testid={`stage-col-${stage.id}`}
              onDragOver={(e) => e.preventDefault()}
              onDrop={(e) => onDrop(e, stage, stage.deals.length)}
            >
              <header className="board-col-head">
                <h2>{stage.name}</h2>
                <span className="badge badge-closed" data-testid={`stage-count-${stage.id}`}>
                  {stage.count}
                </span>
                <span className="board-col-total" data-testid={`stage-total-${stage.id}`}>
                  {formatMoney(stage.total_value)}
                </span>
              </header>
              <ul className="board-cards">
                {stage.deals.map((deal, index) => (
                  <li
                    key={deal.id}
                    className={`deal-card${dragging === deal.id ? " dragging" : ""}`}
                    data-testid={`deal-card-${deal.id}`}
                    draggable
                    onDragStart={(e) => {
                      e.dataTransfer.setData("text/plain", String(deal.id));
                      e.dataTransfer.effectAllowed = "move";
                      setDragging(deal.id);
                    }}
                    onDragEnd={() => setDragging(null)}
                    onDragOver={(e) => e.preventDefault()}
                    onDrop={(e) => onDrop(e, stage, index)}
                  >
                    <button type="button" className="deal-title" onClick={() => setOpenDeal(deal.id)} data-testid={`deal-open-${deal.id}`}>
                      {deal.title}
                    </button>
                    <div className="deal-meta">
                      <strong>{formatMoney(deal.value)}</strong>
                      {deal.contact ? <span className="muted">{deal.contact.name || deal.contact.phone}</span> : null}
                    </div>
                    <div className="deal-meta muted small">
                      {deal.owner_name ? <span>{deal.owner_name}</span> : null}
                      {deal.expected_close ? <span>{formatYmd(deal.expected_close, lang)}</span> : null}
                    </div>
                    <select
                      aria-label={t("deals.moveTo", { title: deal.title })}
                      className="deal-move"
                      value={String(stage.id)}
                      onChange={(e) => {
                        const to = stages.find((s) => s.id === Number(e.target.value));
                        if (to) void move(deal, to.id, to.deals.length);
                      }}
                      data-testid={`deal-move-${deal.id}`}
                    >
                      {stages.map((s) => (
                        <option key={s.id} value={String(s.id)}>
                          {s.id === stage.id ? s.name : t("deals.moveToStage", { stage: s.name })}
                        </option>
                      ))}
                    </select>
                  </li>
                ))}
              </ul>
            </div>
          ))}
        </div>
      )}

      {metrics ? (
        <div className="grid-2">
          <div className="card">
            <h2>{t("analytics.funnel")}</h2>
            <FunnelBars funnel={metrics.funnel ?? []} testId="pipeline-funnel" />
          </div>
          <div className="card">
            <h2>{t("pipeline.byOwner")}</h2>
            {metrics.win_rate_by_owner?.length ? (
              <table className="table" data-testid="pipeline-owners">
                <thead>
                  <tr>
                    <th>{t("contacts.owner")}</th>
                    <th>{t("pipeline.contacted")}</th>
                    <th>{t("pipeline.won")}</th>
                    <th>{t("pipeline.winRate")}</th>
                  </tr>
                </thead>
                <tbody>
                  {metrics.win_rate_by_owner.map((o, i) => (
                    <tr key={o.owner_id ?? `none-${i}`}>
                      <td data-label={t("contacts.owner")}>{o.owner_name || t("contacts.noOwner")}</td>
                      <td data-label={t("pipeline.contacted")}>{o.contacted}</td>
                      <td data-label={t("pipeline.won")}>{o.won}</td>
                      <td data-label={t("pipeline.winRate")}>{formatRate(o.win_rate, lang)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : (
              <p className="muted">{t("analytics.noData")}</p>
            )}
            {metrics.lost_reasons?.length ? (
              <>
                <h3 className="subhead">{t("pipeline.lostReasons")}</h3>
                <ul className="mini-list" data-testid="pipeline-lost-reasons">
                  {metrics.lost_reasons.map((r) => (
                    <li key={r.reason}>
                      <span>{r.reason}</span>
                      <span className="mini-right">{r.count}</span>
                    </li>
                  ))}
                </ul>
              </>
            ) : null}
          </div>
        </div>
      ) : null}

      {creating && stages ? (
        <Modal title={t("deals.new")} onClose={() => setCreating(false)} testId="deal-dialog">
          <DealForm
            stages={stages}
            members={members}
            onSaved={() => {
              setCreating(false);
              void loadBoard();
              void loadMetrics();
            }}
            onCancel={() => setCreating(false)}
          />
        </Modal>
      ) : null}
      {openDeal !== null ? (
        <DealDrawer
          dealId={openDeal}
          members={members}
          onClose={() => setOpenDeal(null)}
          onChanged={() => {
            void loadBoard();
          }}
        />
      ) : null}
      {pending ? (
        <Modal title={t("deals.lostTitle")} onClose={() => setPending(null)} testId="deal-lost-dialog">
          <form
            className="form"
            onSubmit={(e) => {
              e.preventDefault();
              if (lostReason.trim()) void move(pending.deal, pending.stageId, pending.position, lostReason.trim());
            }}
          >
            <p className="muted small">{t("deals.lostIntro", { title: pending.deal.title })}</p>
            <Field
              id="deal_lost_reason"
              label={t("deals.lostReason")}
              value={lostReason}
              onChange={(e) => setLostReason(e.target.value)}
              errors={pending.error ? [pending.error] : []}
              data-testid="deal-lost-reason"
              autoFocus
            />
            <div className="button-row">
              <button type="submit" className="btn btn-primary" disabled={!lostReason.trim()} data-testid="deal-lost-confirm">
                {t("deals.markLost")}
              </button>
              <button type="button" className="btn btn-ghost" onClick={() => setPending(null)}>
                {t("common.cancel")}
              </button>
            </div>
          </form>
        </Modal>
      ) : null}
    </section>
  );
}
