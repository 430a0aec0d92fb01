import type { Role, ShopInfo } from "./config";

/* ---------- Types of the backend contract ---------- */

export interface SessionUser {
  id: number;
  name: string;
  email: string;
}

export interface Session {
  user: SessionUser;
  role: Role;
  shop: ShopInfo;
}

export interface SubdomainCheck {
  available: boolean;
  reason: string | null;
}

export interface SignupPayload {
  shop_name: string;
  subdomain: string;
  owner_name: string;
  email: string;
  password: string;
  phone?: string;
}

export interface InvitationInfo {
  shop_name: string;
  email: string;
  role: Role;
}

export interface Member {
  id: number;
  user_id: number;
  name: string;
  email: string;
  role: Role;
  joined_at: string;
}

export interface Invitation {
  id: number;
  email: string;
  role: Role;
  created_at: string;
  expires_at: string;
  accept_url: string;
}

export interface ApiToken {
  id: number;
  name: string;
  prefix: string;
  /** What it may do, e.g. "contacts:read", "messages:send" (write includes read). */
  scopes: string[];
  created_at: string;
  last_used_at: string | null;
  created_by_name: string;
}

export interface CreatedApiToken extends ApiToken {
  token: string;
}

/* ---------- Audit log & shop deletion ---------- */

export interface AuditEvent {
  id: number;
  action: string;
  actor_email: string;
  target: string;
  details: Record<string, unknown>;
  ip: string | null;
  created_at: string;
}

export interface AuditPage {
  count: number;
  next: string | null;
  previous: string | null;
  results: AuditEvent[];
}

export interface ShopDeletionState {
  status: string;
  deletion_due_at: string | null;
  grace_days: number;
}

export type ShopExportStatus = "queued" | "running" | "ready" | "failed" | "expired";

/** Settings > Data: an export of everything the shop holds; `download_url` works for a few minutes. */
export interface ShopExport {
  id: number;
  status: ShopExportStatus;
  progress: number;
  rows_done: number;
  rows_total: number;
  file_size: number;
  error: string;
  requested_by: string | null;
  created_at: string;
  finished_at: string | null;
  expires_at: string | null;
  download_url: string | null;
}

/** An area of the API a token can be allowed: its read permission and, for most, a write (or send) one. */
export interface ApiTokenArea {
  area: string;
  label: string;
  read: string;
  write: string | null;
}

/* ---------- Inbox & WhatsApp ---------- */

export type ConversationStatus = "open" | "closed";
export type InboxView = "all" | "mine" | "unassigned";
export type StatusFilter = "open" | "closed" | "all";

export interface Contact {
  id: number;
  name: string;
  phone: string | null;
  wa_id: string;
  email: string;
  source: string;
  marketing_opt_out: boolean;
  created_at: string;
}

export interface Conversation {
  id: number;
  status: ConversationStatus;
  assignee_id: number | null;
  assignee_name: string | null;
  unread_count: number;
  last_message_at: string | null;
  last_message_preview: string;
  window_open: boolean;
  window_expires_at: string | null;
  contact: Contact;
}

export interface ConversationPage {
  results: Conversation[];
  next_before: string | null;
}

export type MessageDirection = "in" | "out" | "note";
export type MessageStatus = "received" | "pending" | "accepted" | "sent" | "delivered" | "read" | "failed";

export interface Message {
  id: number;
  direction: MessageDirection;
  /** "text" | "interactive" | "template" | "image" | "document" | "location" | "reaction" | "button" | "note" | … */
  type: string;
  text: string;
  status: MessageStatus;
  error_code: number | null;
  error_reason: string;
  automated: boolean;
  author_id: number | null;
  author_name: string | null;
  created_at: string;
  payload: Record<string, unknown>;
}

export interface MessagePage {
  results: Message[];
  has_more: boolean;
}

export interface ConversationQuery {
  view: InboxView;
  status: StatusFilter;
  q?: string;
  label?: number | null;
  before?: string | null;
}

export interface WaTemplate {
  id: number;
  name: string;
  language: string;
  category: string;
  status: string;
  body_text: string;
  parameter_count: number;
}

export interface QuickReply {
  id: number;
  shortcut: string;
  text: string;
}

export interface WaAccount {
  connected: boolean;
  phone_number_id: string;
  waba_id: string;
  display_phone_number: string;
  verified_name: string;
  quality_rating: string;
  throughput_level: string;
  status: "connected" | "error" | string;
  last_error_code: number | null;
  last_error_reason: string;
  last_checked_at: string | null;
  verify_token: string;
  webhook_url: string;
}

export interface WaAccountPayload {
  phone_number_id: string;
  waba_id: string;
  display_phone_number: string;
  access_token: string;
  app_secret: string;
  verify_token: string;
}

export type WaTestResult =
  | { ok: true; verified_name: string; quality_rating: string; throughput_level: string }
  | { ok: false; code: number | null; reason: string };

export type RuleKind = "greeting" | "keyword" | "away";

export interface AutoReplyRule {
  id: number;
  name: string;
  kind: RuleKind;
  keywords: string[];
  reply_text: string;
  reply_buttons: string[];
  /** A list menu instead of buttons: `{button, rows}` (≤ 10 rows of ≤ 24 characters), or `{}`. */
  reply_list?: { button?: string; rows?: string[] };
  priority: number;
  cooldown_minutes: number;
  active: boolean;
}

export type AutoReplyPayload = Omit<AutoReplyRule, "id">;

export type Weekday = "mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun";
export const WEEKDAYS: Weekday[] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

export interface BusinessHours {
  weekly: Partial<Record<Weekday, [string, string][]>>;
  holidays: string[];
  timezone: string;
}

export interface RuleTestResult {
  rule: { id: number; name: string; kind: RuleKind } | null;
  reply_text: string | null;
}

/* ---------- CRM: contacts, catalog, orders, pipeline, segments, analytics ---------- */

/** Integer rupiah; DRF may serialise decimals as strings. */
export type Money = number | string;

/** Cursor-paginated list. */
export interface CursorPage<T> {
  results: T[];
  next_cursor: string | null;
}

export interface Label {
  id: number;
  name: string;
  color: string;
  contact_count?: number;
}

export type AttributeType = "text" | "number" | "date" | "choice" | "checkbox";

export interface CustomAttribute {
  id: number;
  key: string;
  label: string;
  type: AttributeType;
  choices: string[];
}

export type Gender = "f" | "m" | "o" | "";
export type Consent = "opted_in" | "opted_out";

export interface ContactRow {
  id: number;
  name: string;
  phone: string | null;
  email: string;
  city: string;
  labels: Label[];
  owner_id: number | null;
  owner_name: string | null;
  source: string;
  marketing_opt_out: boolean;
  order_count: number;
  total_spent: Money;
  last_order_at: string | null;
  rfm_segment: string | null;
  created_at: string;
  /** Personal data erased on request: the row stays, anonymous, for the shop's totals. */
  erased_at?: string | null;
}

export type AttributeValue = string | number | boolean | null;

export interface ContactDetail extends ContactRow {
  address: string;
  birthday: string | null;
  gender: Gender;
  attributes: Record<string, AttributeValue>;
  notes: string;
  marketing_opt_out_at: string | null;
  marketing_opt_out_reason: string;
  wa_id: string;
  conversation_id: number | null;
  last_inbound_at: string | null;
  first_order_at: string | null;
}

export interface ContactPayload {
  name: string;
  phone: string;
  email: string;
  city: string;
  address: string;
  birthday: string | null;
  gender: Gender;
  label_ids: number[];
  attributes: Record<string, AttributeValue>;
  owner_id: number | null;
  notes: string;
  marketing_opt_out: boolean;
}

export interface ContactFilters {
  q?: string;
  label?: number | string | null;
  city?: string;
  /** A user id or "none" (no owner). */
  owner?: number | string | null;
  consent?: Consent | "";
  source?: string;
}

export interface TimelineItem {
  id: number | string;
  kind: string;
  summary: string;
  actor_name: string | null;
  created_at: string;
  data: Record<string, unknown> | null;
}

export interface TimelinePage {
  results: TimelineItem[];
  next_before: string | null;
}

export interface BulkContactsPayload {
  ids: number[];
  add_label_ids: number[];
  remove_label_ids: number[];
  owner_id?: number | null;
}

export interface ImportUpload {
  id: number;
  filename: string;
  columns: string[];
  preview: unknown[][];
  suggested_mapping: Record<string, string | null>;
  fields: { key: string; label: string }[];
}

export type ImportState = "uploaded" | "running" | "done" | "failed";

export interface ImportStatus {
  id: number;
  status: ImportState;
  total_rows: number;
  processed_rows: number;
  created_count: number;
  updated_count: number;
  failed_count: number;
  errors: { line: number | null; reason: string }[];
  /** How many failed lines are not listed, when the stored list is capped. */
  errors_note?: string | null;
  finished_at: string | null;
}

export interface Variant {
  id: number;
  sku: string;
  size: string;
  color: string;
  price: Money;
  stock: number;
  active: boolean;
}

export interface Product {
  id: number;
  name: string;
  description: string;
  image_url: string;
  active: boolean;
  variants: Variant[];
}

export interface ProductPayload {
  name: string;
  description: string;
  image_url: string;
  active: boolean;
  variants: { sku: string; size: string; color: string; price: number; stock: number }[];
}

export interface VariantOption {
  id: number;
  sku: string;
  label: string;
  price: Money;
  stock: number;
}

export type OrderStatus = "new" | "confirmed" | "paid" | "shipped" | "completed" | "cancelled";
export const ORDER_STATUSES: OrderStatus[] = ["new", "confirmed", "paid", "shipped", "completed", "cancelled"];
export type PaymentStatus = "unpaid" | "paid" | "refunded";
export type OrderChannel = "whatsapp" | "manual" | "marketplace";

export interface ContactRef {
  id: number;
  name: string;
  phone: string | null;
}

export interface OrderItem {
  id: number;
  variant_id: number | null;
  description: string;
  quantity: number;
  unit_price: Money;
  line_total: Money;
}

export interface Order {
  id: number;
  number: string;
  contact: ContactRef;
  status: OrderStatus;
  status_history: { status: OrderStatus; at: string; by_name: string | null }[];
  allowed_transitions: OrderStatus[];
  payment_status: PaymentStatus;
  payment_method: string;
  channel: OrderChannel;
  currency: string;
  subtotal: Money;
  discount: Money;
  shipping_fee: Money;
  total: Money;
  tracking_number: string;
  notes: string;
  conversation_id: number | null;
  items: OrderItem[];
  created_at: string;
  /** Present after a status change with notify=true. */
  notification?: { status: string; error_reason: string | null } | null;
}

export interface OrderPayload {
  contact_id: number;
  items: { variant_id: number; quantity: number; unit_price?: number }[];
  discount: number;
  shipping_fee: number;
  payment_method: string;
  channel: OrderChannel;
  notes: string;
  conversation_id?: number;
}

export interface OrderQuery {
  status?: OrderStatus | "";
  contact_id?: number | null;
  q?: string;
  cursor?: string | null;
}

export type OrderNotificationStatus = "confirmed" | "paid" | "shipped";
export type OrderNotifications = Record<OrderNotificationStatus, number | null>;

export type StageKind = "open" | "won" | "lost";

export interface Deal {
  id: number;
  title: string;
  value: Money;
  currency: string;
  contact: ContactRef | null;
  owner_id: number | null;
  owner_name: string | null;
  expected_close: string | null;
  position: number;
  stage_id?: number;
  created_at: string;
}

export interface DealDetail extends Deal {
  stage_id: number;
  notes: string;
  lost_reason?: string;
  history: { from_stage: string | null; to_stage: string; actor_name: string | null; changed_at: string }[];
}

export interface DealPayload {
  title: string;
  contact_id: number | null;
  value: number;
  expected_close: string | null;
  owner_id: number | null;
  stage_id: number;
  notes: string;
}

export interface Stage {
  id: number;
  name: string;
  kind: StageKind;
  position: number;
}

export interface BoardStage extends Stage {
  count: number;
  total_value: Money;
  deals: Deal[];
}

export interface FunnelStep {
  stage_id: number;
  name: string;
  reached: number;
  conversion_from_previous: number | string | null;
}

export interface PipelineMetrics {
  from: string;
  to: string;
  prospects_contacted: number;
  won: number;
  lost: number;
  closing_rate: string | number | null;
  win_rate_by_owner: { owner_id: number | null; owner_name: string | null; contacted: number; won: number; win_rate: string | number | null }[];
  average_days_to_close: number | string | null;
  funnel: FunnelStep[];
  lost_reasons: { reason: string; count: number }[];
}

export interface SegmentRule {
  field: string;
  operator: string;
  value: unknown;
}

export interface RuleGroup {
  op: "and" | "or";
  rules: (SegmentRule | RuleGroup)[];
}

export interface Segment {
  id: number;
  name: string;
  rules: RuleGroup;
  count?: number;
}

export interface BuiltinSegment {
  key: string;
  name: string;
  count: number;
}

export interface KpiValue {
  value: number | string | null;
  previous: number | string | null;
}

export const KPI_NAMES = [
  "new_contacts",
  "active_customers",
  "passive_customers",
  "orders",
  "revenue",
  "average_order_value",
  "repeat_purchase_rate",
  "closing_rate",
  "messages_in",
  "messages_out",
] as const;
export type KpiName = (typeof KPI_NAMES)[number];

export interface ResponseStats {
  p50_seconds: number | null;
  p90_seconds: number | null;
  count: number;
}

export interface Analytics {
  from: string;
  to: string;
  previous_from: string;
  previous_to: string;
  kpis: Record<KpiName, KpiValue>;
  first_response: { human: ResponseStats; automated: ResponseStats };
  top_products: { product_id: number; name: string; quantity: number; revenue: Money }[];
  top_customers: { contact_id: number; name: string; orders: number; revenue: Money }[];
  trend: { date: string; orders: number; revenue: Money }[];
  bucket: "day" | "week";
  funnel: FunnelStep[];
}

export type AnalyticsTable = "top_products" | "top_customers" | "trend";

/* ---------- Billing ---------- */

/** Decimal string in currency units with 4 places ("813.7800"); IDR has no minor unit. */
export type DecimalString = string;
/** Meta's pricing category: "marketing", "utility", "authentication", "authentication-international", "service", … */
export type UsageCategory = string;
export type PlanLimit = "staff_seats" | "contact_limit" | "broadcasts_per_month" | "automation_rules";

export interface BillingPlan {
  code: string;
  name: string;
  /** Integer minor units of the shop's currency (IDR: rupiah). */
  monthly_price: number;
  staff_seats: number | null;
  contact_limit: number | null;
  broadcasts_per_month: number | null;
  automation_rules: number | null;
  whatsapp_markup_percent: string;
  usage_billing: string;
  features: string[];
  is_trial_plan: boolean;
}

export interface BillingOverview {
  currency: string;
  plan: BillingPlan | null;
  plans: BillingPlan[];
  limits: { limit: PlanLimit; used: number; allowed: number | null }[];
  subscription: { status: string; current_period_end: string | null; cancel_at_period_end: boolean; trial_ends_at: string | null };
  read_only: string | null;
  payment_warning: string | null;
  balance: {
    balance: DecimalString;
    reserved: DecimalString;
    available: DecimalString;
    saved_card: boolean;
    auto_recharge: boolean;
    /** Integer minor units. */
    auto_recharge_below: number;
    auto_recharge_amount: number;
    auto_recharge_error: string;
  };
  cap: { monthly_cap: DecimalString | null; percent: number | null };
  usage: {
    from: string;
    to: string;
    by_category: { category: UsageCategory; messages: number; billable_messages: number; meta_cost: DecimalString; price: DecimalString }[];
    total_messages: number;
    total_billable: number;
    total_price: DecimalString;
    projected_price: DecimalString;
    daily: { day: string; category: UsageCategory; messages: number; price: DecimalString }[];
  };
}

export interface BillingPreferences {
  monthly_cap: DecimalString | null;
  auto_recharge: boolean;
  auto_recharge_below: number;
  auto_recharge_amount: number;
}

export interface BillingInvoice {
  id: string;
  number: string;
  status: string;
  /** Integer minor units of `currency`. */
  amount_due: number;
  amount_paid: number;
  currency: string;
  /** Unix seconds. */
  created: number;
  url: string;
}

/* ---------- Errors ---------- */

export type FieldErrors = Record<string, string[]>;

export class ApiError extends Error {
  readonly status: number;
  /** DRF field errors, including `non_field_errors` when present. */
  readonly fieldErrors: FieldErrors;
  /** DRF `detail` message, if any. */
  readonly detail: string | null;
  /** DRF error `code` (e.g. "shop_suspended", "not_authenticated"). */
  readonly code: string | null;
  readonly data: unknown;

  constructor(status: number, data: unknown) {
    const parsed = parseErrorBody(data);
    super(parsed.detail ?? `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.fieldErrors = parsed.fieldErrors;
    this.detail = parsed.detail;
    this.code = parsed.code;
    this.data = data;
  }

  get nonFieldErrors(): string[] {
    return this.fieldErrors.non_field_errors ?? [];
  }
}

function toMessages(value: unknown): string[] {
  if (value == null) return [];
  if (Array.isArray(value)) return value.flatMap(toMessages);
  if (typeof value === "object") return Object.values(value as Record<string, unknown>).flatMap(toMessages);
  return [String(value)];
}

function parseErrorBody(data: unknown): { fieldErrors: FieldErrors; detail: string | null; code: string | null } {
  const fieldErrors: FieldErrors = {};
  let detail: string | null = null;
  let code: string | null = null;
  if (Array.isArray(data)) {
    fieldErrors.non_field_errors = toMessages(data);
  } else if (data && typeof data === "object") {
    for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
      if (key === "detail") detail = toMessages(value).join(" ") || null;
      else if (key === "code") code = typeof value === "string" ? value : null;
      else fieldErrors[key] = toMessages(value);
    }
  } else if (typeof data === "string" && data.trim() && data.length < 300) {
    detail = data.trim();
  }
  return { fieldErrors, detail, code };
}

/* ---------- Shop-suspended notification ---------- */

type SuspendedListener = (detail: string | null) => void;
const suspendedListeners = new Set<SuspendedListener>();

export function onShopSuspended(listener: SuspendedListener): () => void {
  suspendedListeners.add(listener);
  return () => {
    suspendedListeners.delete(listener);
  };
}

/* ---------- CSRF ---------- */

export function getCookie(name: string): string | null {
  const prefix = `${name}=`;
  for (const part of document.cookie ? document.cookie.split(";") : []) {
    const item = part.trim();
    if (item.startsWith(prefix)) return decodeURIComponent(item.slice(prefix.length));
  }
  return null;
}

async function fetchCsrfToken(): Promise<string> {
  const res = await fetch("/api/auth/csrf/", {
    method: "GET",
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  });
  const data = (await readBody(res)) as { csrfToken?: string } | null;
  if (!res.ok) throw new ApiError(res.status, data);
  return getCookie("csrftoken") ?? data?.csrfToken ?? "";
}

async function csrfToken(): Promise<string> {
  return getCookie("csrftoken") ?? (await fetchCsrfToken());
}

/* ---------- Core request ---------- */

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

async function readBody(res: Response): Promise<unknown> {
  if (res.status === 204) return null;
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The UI's language (set on <html lang> by the i18n provider), so server messages match it. */
function uiLanguage(): string {
  return (typeof document !== "undefined" && document.documentElement.lang) || "id";
}

async function send(method: Method, path: string, body: unknown, token: string | null): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/json", "Accept-Language": uiLanguage() };
  // Multipart uploads: the browser sets the Content-Type (with its boundary) itself.
  const form = typeof FormData !== "undefined" && body instanceof FormData;
  if (body !== undefined && !form) headers["Content-Type"] = "application/json";
  if (token !== null) headers["X-CSRFToken"] = token;
  return fetch(path, {
    method,
    credentials: "same-origin",
    headers,
    body: body === undefined ? undefined : form ? (body as FormData) : JSON.stringify(body),
  });
}

export async function request<T>(method: Method, path: string, body?: unknown): Promise<T> {
  const unsafe = method !== "GET";
  let res: Response;
  try {
    res = await send(method, path, body, unsafe ? await csrfToken() : null);
    if (unsafe && res.status === 403) {
      // Stale CSRF token (e.g. rotated at login): fetch a fresh one and retry once.
      const peek = (await readBody(res.clone())) as { detail?: unknown } | null;
      if (peek && typeof peek.detail === "string" && /csrf/i.test(peek.detail)) {
        res = await send(method, path, body, await fetchCsrfToken());
      }
    }
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError(0, null);
  }
  const data = await readBody(res);
  if (!res.ok) {
    const error = new ApiError(res.status, data);
    if (res.status === 403 && error.code === "shop_suspended") {
      suspendedListeners.forEach((l) => l(error.detail));
    }
    throw error;
  }
  return data as T;
}

export const api = {
  get: <T>(path: string) => request<T>("GET", path),
  post: <T>(path: string, body?: unknown) => request<T>("POST", path, body ?? {}),
  put: <T>(path: string, body: unknown) => request<T>("PUT", path, body),
  patch: <T>(path: string, body: unknown) => request<T>("PATCH", path, body),
  delete: <T = null>(path: string) => request<T>("DELETE", path),
  /** multipart/form-data POST (file uploads). */
  upload: <T>(path: string, form: FormData) => request<T>("POST", path, form),
};

/* ---------- Typed endpoints ---------- */

const enc = encodeURIComponent;

/** The contract says plain arrays; also tolerate DRF pagination (`{results: [...]}`). */
function list<T>(promise: Promise<T[] | { results: T[] }>): Promise<T[]> {
  return promise.then((data) => (Array.isArray(data) ? data : (data?.results ?? [])));
}

export const endpoints = {
  subdomainCheck: (subdomain: string) =>
    api.get<SubdomainCheck>(`/api/portal/subdomain-check/?subdomain=${enc(subdomain)}`),
  signup: (payload: SignupPayload) => api.post<{ redirect_url: string }>("/api/portal/signup/", payload),

  session: () => api.get<Session>("/api/auth/session/"),
  login: (email: string, password: string) => api.post<Session>("/api/auth/login/", { email, password }),
  logout: () => api.post<unknown>("/api/auth/logout/"),
  passwordReset: (email: string) => api.post<unknown>("/api/auth/password-reset/", { email }),
  passwordResetConfirm: (uid: string, token: string, new_password: string) =>
    api.post<unknown>("/api/auth/password-reset/confirm/", { uid, token, new_password }),

  invitation: (token: string) => api.get<InvitationInfo>(`/api/invitations/${enc(token)}/`),
  acceptInvitation: (token: string, name: string, password: string) =>
    api.post<Session>(`/api/invitations/${enc(token)}/accept/`, { name, password }),

  members: () => list(api.get<Member[] | { results: Member[] }>("/api/team/members/")),
  updateMember: (id: number, role: Role) => api.patch<Member | null>(`/api/team/members/${id}/`, { role }),
  removeMember: (id: number) => api.delete(`/api/team/members/${id}/`),
  invitations: () => list(api.get<Invitation[] | { results: Invitation[] }>("/api/team/invitations/")),
  createInvitation: (email: string, role: Role) => api.post<Invitation>("/api/team/invitations/", { email, role }),
  revokeInvitation: (id: number) => api.delete(`/api/team/invitations/${id}/`),

  tokens: () => list(api.get<ApiToken[] | { results: ApiToken[] }>("/api/tokens/")),
  tokenAreas: () => api.get<ApiTokenArea[]>("/api/tokens/scopes/"),
  createToken: (name: string, scopes: string[]) => api.post<CreatedApiToken>("/api/tokens/", { name, scopes }),
  revokeToken: (id: number) => api.delete(`/api/tokens/${id}/`),

  auditLog: (page: number) => api.get<AuditPage>(`/api/audit/?page=${page}`),
  shopDeletion: () => api.get<ShopDeletionState>("/api/shop/deletion/"),
  requestShopDeletion: (password: string) => api.post<ShopDeletionState>("/api/shop/deletion/", { password }),
  cancelShopDeletion: () => api.delete<ShopDeletionState>("/api/shop/deletion/"),
  shopExports: () => list(api.get<ShopExport[] | { results: ShopExport[] }>("/api/data/exports/")),
  startShopExport: () => api.post<ShopExport>("/api/data/exports/"),
  shopExport: (id: number) => api.get<ShopExport>(`/api/data/exports/${id}/`),

  conversations: (query: ConversationQuery) => {
    const params = new URLSearchParams({ view: query.view, status: query.status });
    if (query.q?.trim()) params.set("q", query.q.trim());
    if (query.label) params.set("label", String(query.label));
    if (query.before) params.set("before", query.before);
    return api.get<ConversationPage>(`/api/inbox/conversations/?${params.toString()}`);
  },
  conversation: (id: number) => api.get<Conversation>(`/api/inbox/conversations/${id}/`),
  updateConversation: (id: number, changes: { status?: ConversationStatus; assignee_id?: number | null }) =>
    api.patch<Conversation>(`/api/inbox/conversations/${id}/`, changes),
  messages: (id: number, beforeId?: number | null) =>
    api.get<MessagePage>(`/api/inbox/conversations/${id}/messages/${beforeId ? `?before_id=${beforeId}` : ""}`),
  sendMessage: (id: number, text: string) => api.post<Message>(`/api/inbox/conversations/${id}/messages/`, { text }),
  sendAttachment: (id: number, form: FormData) => api.upload<Message>(`/api/inbox/conversations/${id}/attachments/`, form),
  addNote: (id: number, text: string) => api.post<Message>(`/api/inbox/conversations/${id}/notes/`, { text }),
  sendTemplate: (id: number, template_id: number, parameters: string[]) =>
    api.post<Message>(`/api/inbox/conversations/${id}/template/`, { template_id, parameters }),
  markRead: (id: number) => api.post<null>(`/api/inbox/conversations/${id}/read/`),

  templates: () => list(api.get<WaTemplate[] | { results: WaTemplate[] }>("/api/whatsapp/templates/")),
  syncTemplates: () => api.post<{ synced: number }>("/api/whatsapp/templates/sync/"),
  quickReplies: () => list(api.get<QuickReply[] | { results: QuickReply[] }>("/api/whatsapp/quick-replies/")),
  createQuickReply: (data: Omit<QuickReply, "id">) => api.post<QuickReply>("/api/whatsapp/quick-replies/", data),
  updateQuickReply: (id: number, data: Partial<Omit<QuickReply, "id">>) => api.patch<QuickReply>(`/api/whatsapp/quick-replies/${id}/`, data),
  deleteQuickReply: (id: number) => api.delete(`/api/whatsapp/quick-replies/${id}/`),

  waAccount: () => api.get<WaAccount>("/api/whatsapp/account/"),
  saveWaAccount: (data: WaAccountPayload) => api.put<WaAccount>("/api/whatsapp/account/", data),
  testWaAccount: () => api.post<WaTestResult>("/api/whatsapp/account/test/"),

  autoReplies: () => list(api.get<AutoReplyRule[] | { results: AutoReplyRule[] }>("/api/whatsapp/auto-replies/")),
  createAutoReply: (data: AutoReplyPayload) => api.post<AutoReplyRule>("/api/whatsapp/auto-replies/", data),
  updateAutoReply: (id: number, data: Partial<AutoReplyPayload>) => api.patch<AutoReplyRule>(`/api/whatsapp/auto-replies/${id}/`, data),
  deleteAutoReply: (id: number) => api.delete(`/api/whatsapp/auto-replies/${id}/`),
  testAutoReply: (data: { text: string; first_message: boolean; at?: string }) =>
    api.post<RuleTestResult>("/api/whatsapp/auto-replies/test/", data),
  businessHours: () => api.get<BusinessHours>("/api/whatsapp/business-hours/"),
  saveBusinessHours: (data: Pick<BusinessHours, "weekly" | "holidays">) => api.put<BusinessHours>("/api/whatsapp/business-hours/", data),
  /* CRM: contacts */
  contacts: (filters: ContactFilters, cursor?: string | null) =>
    api.get<CursorPage<ContactRow>>(`/api/crm/contacts/${contactQuery(filters, cursor)}`),
  contactsExportUrl: (filters: ContactFilters) => `/api/crm/contacts/export/${contactQuery(filters)}`,
  contact: (id: number) => api.get<ContactDetail>(`/api/crm/contacts/${id}/`),
  createContact: (data: ContactPayload) => api.post<ContactDetail>("/api/crm/contacts/", data),
  updateContact: (id: number, data: Partial<ContactPayload>) => api.patch<ContactDetail>(`/api/crm/contacts/${id}/`, data),
  timeline: (id: number, before?: string | null) =>
    api.get<TimelinePage>(`/api/crm/contacts/${id}/timeline/${query({ before })}`),
  addContactNote: (id: number, text: string) => api.post<TimelineItem>(`/api/crm/contacts/${id}/notes/`, { text }),
  bulkContacts: (data: BulkContactsPayload) => api.post<{ updated: number }>("/api/crm/contacts/bulk/", data),
  mergeContact: (id: number, other_id: number) => api.post<ContactDetail>(`/api/crm/contacts/${id}/merge/`, { other_id }),
  eraseContact: (id: number) => api.post<ContactDetail>(`/api/crm/contacts/${id}/erase/`),

  labels: () => list(api.get<Label[] | { results: Label[] }>("/api/crm/labels/")),
  createLabel: (data: { name: string; color: string }) => api.post<Label>("/api/crm/labels/", data),
  updateLabel: (id: number, data: Partial<{ name: string; color: string }>) => api.patch<Label>(`/api/crm/labels/${id}/`, data),
  deleteLabel: (id: number) => api.delete(`/api/crm/labels/${id}/`),
  attributes: () => list(api.get<CustomAttribute[] | { results: CustomAttribute[] }>("/api/crm/attributes/")),
  createAttribute: (data: Omit<CustomAttribute, "id">) => api.post<CustomAttribute>("/api/crm/attributes/", data),
  updateAttribute: (id: number, data: Partial<Omit<CustomAttribute, "id">>) => api.patch<CustomAttribute>(`/api/crm/attributes/${id}/`, data),
  deleteAttribute: (id: number) => api.delete(`/api/crm/attributes/${id}/`),

  uploadImport: (file: File) => {
    const form = new FormData();
    form.append("file", file);
    return api.upload<ImportUpload>("/api/crm/imports/", form);
  },
  /** `label_all` (at most 40 characters) labels every imported row: how an uploaded list becomes a broadcast audience. */
  startImport: (id: number, mapping: Record<string, string | null>, update_existing: boolean, label_all?: string) =>
    api.post<{ id: number; status: ImportState }>(`/api/crm/imports/${id}/start/`, label_all ? { mapping, update_existing, label_all } : { mapping, update_existing }),
  importStatus: (id: number) => api.get<ImportStatus>(`/api/crm/imports/${id}/`),

  /* CRM: catalog & orders */
  products: (q?: string, active?: boolean | null, cursor?: string | null) =>
    api.get<CursorPage<Product>>(`/api/crm/products/${query({ q: q?.trim(), active, cursor })}`),
  createProduct: (data: ProductPayload) => api.post<Product>("/api/crm/products/", data),
  updateProduct: (id: number, data: ProductPayload) => api.patch<Product>(`/api/crm/products/${id}/`, data),
  variants: (q: string) => list(api.get<VariantOption[] | { results: VariantOption[] }>(`/api/crm/variants/${query({ q: q.trim() })}`)),

  orders: (q: OrderQuery) =>
    api.get<CursorPage<Order>>(`/api/crm/orders/${query({ status: q.status, contact_id: q.contact_id, q: q.q?.trim(), cursor: q.cursor })}`),
  order: (id: number) => api.get<Order>(`/api/crm/orders/${id}/`),
  createOrder: (data: OrderPayload) => api.post<Order>("/api/crm/orders/", data),
  updateOrder: (id: number, data: Partial<Pick<Order, "notes" | "payment_method" | "payment_status" | "tracking_number">>) =>
    api.patch<Order>(`/api/crm/orders/${id}/`, data),
  setOrderStatus: (id: number, data: { status: OrderStatus; tracking_number?: string; notify: boolean }) =>
    api.post<Order>(`/api/crm/orders/${id}/status/`, data),
  orderNotifications: () => api.get<OrderNotifications>("/api/crm/order-notifications/"),
  saveOrderNotifications: (data: OrderNotifications) => api.put<OrderNotifications>("/api/crm/order-notifications/", data),

  /* CRM: pipeline */
  contactDeals: (contact_id: number) => api.get<{ results: Deal[]; next: number | null }>(`/api/crm/deals/${query({ contact_id })}`),
  board: (owner_id?: number | null) => api.get<{ stages: BoardStage[] }>(`/api/crm/deals/board/${query({ owner_id })}`),
  createDeal: (data: DealPayload) => api.post<DealDetail>("/api/crm/deals/", data),
  deal: (id: number) => api.get<DealDetail>(`/api/crm/deals/${id}/`),
  updateDeal: (id: number, data: Partial<DealPayload>) => api.patch<DealDetail>(`/api/crm/deals/${id}/`, data),
  moveDeal: (id: number, data: { stage_id: number; position: number; lost_reason?: string }) =>
    api.post<DealDetail | null>(`/api/crm/deals/${id}/move/`, data),
  pipelineMetrics: (from: string, to: string, owner_id?: number | null) =>
    api.get<PipelineMetrics>(`/api/crm/pipeline/metrics/${query({ from, to, owner_id })}`),
  stages: () => list(api.get<Stage[] | { results: Stage[] }>("/api/crm/stages/")),
  createStage: (data: Omit<Stage, "id">) => api.post<Stage>("/api/crm/stages/", data),
  updateStage: (id: number, data: Partial<Omit<Stage, "id">>) => api.patch<Stage>(`/api/crm/stages/${id}/`, data),
  deleteStage: (id: number) => api.delete(`/api/crm/stages/${id}/`),

  /* CRM: segments */
  segments: () => list(api.get<Segment[] | { results: Segment[] }>("/api/crm/segments/")),
  segment: (id: number) => api.get<Segment>(`/api/crm/segments/${id}/`),
  createSegment: (data: { name: string; rules: RuleGroup }) => api.post<Segment>("/api/crm/segments/", data),
  updateSegment: (id: number, data: Partial<{ name: string; rules: RuleGroup }>) => api.patch<Segment>(`/api/crm/segments/${id}/`, data),
  deleteSegment: (id: number) => api.delete(`/api/crm/segments/${id}/`),
  previewSegment: (rules: RuleGroup) => api.post<{ count: number }>("/api/crm/segments/preview/", { rules }),
  segmentContacts: (id: number, cursor?: string | null) =>
    api.get<CursorPage<ContactRow>>(`/api/crm/segments/${id}/contacts/${query({ cursor })}`),
  segmentExportUrl: (id: number) => `/api/crm/segments/${id}/export/`,
  builtinSegments: () => list(api.get<BuiltinSegment[] | { results: BuiltinSegment[] }>("/api/crm/segments/builtin/")),
  builtinSegmentContacts: (key: string, cursor?: string | null) =>
    api.get<CursorPage<ContactRow>>(`/api/crm/segments/builtin/${enc(key)}/contacts/${query({ cursor })}`),
  refreshRfm: () => api.post<{ refreshed: number; at: string }>("/api/crm/rfm/refresh/"),

  /* CRM: analytics */
  analytics: (from: string, to: string) => api.get<Analytics>(`/api/crm/analytics/${query({ from, to })}`),
  analyticsExportUrl: (table: AnalyticsTable, from: string, to: string) => `/api/crm/analytics/export/${table}/${query({ from, to })}`,

  /* Billing (owners and admins) */
  billing: () => api.get<BillingOverview>("/api/billing/"),
  subscribe: (plan: string) => api.post<{ url: string }>("/api/billing/subscribe/", { plan }),
  topUp: (amount: number, save_card: boolean) => api.post<{ url: string }>("/api/billing/top-up/", { amount, save_card }),
  billingPortal: () => api.post<{ url: string }>("/api/billing/portal/"),
  saveBillingPreferences: (data: BillingPreferences) => api.put<BillingOverview>("/api/billing/preferences/", data),
  invoices: () => list(api.get<BillingInvoice[] | { results: BillingInvoice[] }>("/api/billing/invoices/")),
};

type QueryValue = string | number | boolean | null | undefined;

/** "?a=1&b=x" from the non-empty values (empty string, null and undefined are left out); "" when none. */
export function query(params: Record<string, QueryValue>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === null || value === undefined || value === "") continue;
    search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

function contactQuery(f: ContactFilters, cursor?: string | null): string {
  return query({
    q: f.q?.trim(),
    label: f.label,
    city: f.city?.trim(),
    owner: f.owner,
    consent: f.consent,
    source: f.source?.trim(),
    cursor,
  });
}

