import { api, query, type DecimalString } from "../../api";

/* The broadcast API (/api/broadcasts/): types and calls, kept next to the pages that use them. */

export type BroadcastStatus = "draft" | "scheduled" | "sending" | "paused" | "completed" | "cancelled" | "stopped" | "active" | "inactive";
export const BROADCAST_STATUSES: BroadcastStatus[] = ["draft", "scheduled", "sending", "paused", "completed", "cancelled", "stopped", "active", "inactive"];

/** A repeating broadcast sends an occurrence at each run; "" is a one-off. */
export type Repeat = "" | "daily" | "weekly" | "monthly";
export const REPEATS: Exclude<Repeat, "">[] = ["daily", "weekly", "monthly"];
/** A triggered broadcast sends to whoever the event concerns, once per customer per event. */
export type Trigger = "" | "birthday" | "days_after_order" | "cart_left";
export const TRIGGERS: Exclude<Trigger, "">[] = ["birthday", "days_after_order", "cart_left"];

/** One send made by a repeating or triggered broadcast; its own page has its results. */
export interface Occurrence {
  id: number;
  name: string;
  started_at: string | null;
  status: BroadcastStatus;
  recipients: number;
}

export type VariableSource = "field" | "attribute" | "text";
export type HeaderFormat = null | "image" | "video" | "document";

export interface BroadcastTemplate {
  id: number;
  name: string;
  language: string;
  category: string;
  body_text: string;
  parameter_count: number;
  header_format: HeaderFormat;
}

export interface BroadcastVariable {
  source: VariableSource;
  value: string;
  fallback: string;
}

export interface Audience {
  segments: number[];
  groups: string[];
  labels: number[];
  contacts: number[];
}

export interface Failure {
  code: number | string | null;
  reason: string;
  count: number;
}

export interface Progress {
  status: BroadcastStatus;
  status_reason: string;
  total: number;
  queued: number;
  sending: number;
  sent: number;
  delivered: number;
  read: number;
  failed: number;
  skipped: number;
  replied: number;
  opted_out: number;
  failures: Failure[];
  rate_per_s: number | null;
  eta_s: number | null;
}

export interface Broadcast {
  id: number;
  name: string;
  status: BroadcastStatus;
  status_reason: string;
  template: BroadcastTemplate;
  variables: BroadcastVariable[];
  header_media_url: string;
  audience: Audience;
  exclude_segments: number[];
  frequency_cap_hours: number;
  attribution_days: number;
  scheduled_at: string | null;
  started_at: string | null;
  finished_at: string | null;
  created_at: string;
  recipient_count: number;
  estimated_cost: DecimalString;
  currency: string;
  repeat: Repeat;
  trigger: Trigger;
  trigger_days: number;
  trigger_hours: number;
  /** Repeating or triggered: when the next occurrence is made. */
  next_run_at: string | null;
  /** An occurrence: the broadcast it was made from. */
  parent: number | null;
  /** Repeating or triggered, on its own page: the latest occurrences, newest first. */
  occurrences?: Occurrence[];
  /** In the list only. */
  progress?: Progress | null;
}

/** Repeating or triggered: it never sends itself, its occurrences do. */
export function isRecurring(b: Pick<Broadcast, "repeat" | "trigger">): boolean {
  return Boolean(b.repeat || b.trigger);
}

export interface BroadcastPayload {
  name: string;
  template_id: number;
  variables: BroadcastVariable[];
  header_media_url: string;
  audience: Audience;
  exclude_segments: number[];
  frequency_cap_hours: number;
  attribution_days: number;
  repeat?: Repeat;
  trigger?: Trigger;
  trigger_days?: number;
  trigger_hours?: number;
}

export interface BroadcastOptions {
  templates: BroadcastTemplate[];
  fields: { key: string; label: string }[];
  attributes: { key: string; label: string }[];
  segments: { id: number; name: string }[];
  groups: { key: string; name: string }[];
  labels: { id: number; name: string; color: string }[];
}

export type ExclusionReason = "no_whatsapp" | "opted_out" | "undeliverable" | "frequency_cap" | "excluded_segments";
export const EXCLUSION_REASONS: ExclusionReason[] = ["no_whatsapp", "opted_out", "undeliverable", "frequency_cap", "excluded_segments"];

export interface Estimate {
  recipients: number;
  excluded: Partial<Record<ExclusionReason, number>>;
  markets: { market: string; name: string; count: number; unit_price: DecimalString; total: DecimalString }[];
  total: DecimalString;
  currency: string;
  /** null on postpaid plans. */
  balance: DecimalString | null;
  cap_left: DecimalString | null;
  allowed: boolean;
  refusal: string | null;
}

export interface PreviewRecipient {
  contact_id: number;
  name: string;
  to: string;
  text: string;
}

export interface Results {
  funnel: { sent: number; delivered: number; read: number; replied: number; ordered: number };
  revenue: DecimalString;
  orders: number;
  currency: string;
  cost: { estimated: DecimalString; actual: DecimalString };
  opted_out: number;
  failures: Failure[];
}

export type RecipientStep = "failed" | "not_delivered" | "delivered_not_read" | "read_no_reply" | "replied_no_order";
export type RetargetStep = Exclude<RecipientStep, "failed">;
export const RETARGET_STEPS: RetargetStep[] = ["not_delivered", "delivered_not_read", "read_no_reply", "replied_no_order"];

export interface RecipientRow {
  contact_id: number | null;
  name: string;
  to: string;
  status: string;
  error_reason: string;
  sent_at: string | null;
  read_at: string | null;
  replied_at: string | null;
}

/** The shop's opt-out words and the confirmation a customer gets; the built-in words always work. */
export interface ConsentSettings {
  stop_words: string[];
  /** Empty: the default message in the shop's language. */
  confirmation: string;
  built_in_words: string[];
}

export const broadcastApi = {
  list: () => api.get<{ results: Broadcast[]; count: number }>("/api/broadcasts/"),
  get: (id: number) => api.get<Broadcast>(`/api/broadcasts/${id}/`),
  create: (data: BroadcastPayload) => api.post<Broadcast>("/api/broadcasts/", data),
  update: (id: number, data: BroadcastPayload) => api.patch<Broadcast>(`/api/broadcasts/${id}/`, data),
  remove: (id: number) => api.delete(`/api/broadcasts/${id}/`),
  options: () => api.get<BroadcastOptions>("/api/broadcasts/options/"),
  consent: () => api.get<ConsentSettings>("/api/broadcasts/consent/"),
  /** Owners and admins only (403 for agents). */
  saveConsent: (data: Pick<ConsentSettings, "stop_words" | "confirmation">) => api.put<ConsentSettings>("/api/broadcasts/consent/", data),
  estimate: (id: number) => api.get<Estimate>(`/api/broadcasts/${id}/estimate/`),
  preview: (id: number) => api.get<{ recipients: PreviewRecipient[] }>(`/api/broadcasts/${id}/preview/`),
  send: (id: number, at: string | null) => api.post<Broadcast>(`/api/broadcasts/${id}/send/`, { at }),
  pause: (id: number) => api.post<Broadcast>(`/api/broadcasts/${id}/pause/`),
  resume: (id: number) => api.post<Broadcast>(`/api/broadcasts/${id}/resume/`),
  cancel: (id: number) => api.post<Broadcast>(`/api/broadcasts/${id}/cancel/`),
  progress: (id: number) => api.get<Progress>(`/api/broadcasts/${id}/progress/`),
  results: (id: number) => api.get<Results>(`/api/broadcasts/${id}/results/`),
  recipients: (id: number, step: RecipientStep, page = 1) =>
    api.get<{ results: RecipientRow[]; count: number }>(`/api/broadcasts/${id}/recipients/${query({ step, page: page > 1 ? page : null })}`),
  retarget: (id: number, step: RetargetStep, name: string) =>
    api.post<{ segment_id: number; name: string; count: number }>(`/api/broadcasts/${id}/retarget/`, { step, name }),
};

/** Statuses in which the broadcast's workers are (or may be) at work: progress is live. */
export function isLive(status: BroadcastStatus): boolean {
  return status === "sending" || status === "paused";
}

/** Recipients that have reached an end: sent (incl. delivered/read), failed or skipped. */
export function processed(p: Pick<Progress, "sent" | "failed" | "skipped">): number {
  return (p.sent || 0) + (p.failed || 0) + (p.skipped || 0);
}

/** 0–100, rounded down so that "100 %" means everything is done. */
export function percentDone(p: Pick<Progress, "sent" | "failed" | "skipped" | "total">): number {
  if (!p.total) return 0;
  return Math.min(100, Math.floor((100 * processed(p)) / p.total));
}

/** The {{n}} placeholders of a template body, in order of their number (1-based). */
export function placeholderCount(template: Pick<BroadcastTemplate, "body_text" | "parameter_count"> | null | undefined): number {
  if (!template) return 0;
  const numbers = [...template.body_text.matchAll(/\{\{\s*(\d+)\s*\}\}/g)].map((m) => Number(m[1]));
  return Math.max(template.parameter_count || 0, ...numbers, 0);
}
