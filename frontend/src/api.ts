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
  created_at: string;
  last_used_at: string | null;
  created_by_name: string;
}

export interface CreatedApiToken extends ApiToken {
  token: string;
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
  createToken: (name: string) => api.post<CreatedApiToken>("/api/tokens/", { name }),
  revokeToken: (id: number) => api.delete(`/api/tokens/${id}/`),

  conversations: (query: ConversationQuery) => {
    const params = new URLSearchParams({ view: query.view, status: query.status });
    if (query.q?.trim()) params.set("q", query.q.trim());
    if (query.before) params.set("before", query.before);
    return api.get<ConversationPage>(`/api/inbox/conversations/?${params.toString()}`);
  },
  conversation: (id: number) => api.get<Conversation>(`/api/inbox/conversations/${id}/`),
  updateConversation: (id: number, changes: { status?: ConversationStatus; assignee_id?: number | null }) =>
    api.patch<Conversation>(`/api/inbox/conversations/${id}/`, changes),
  messages: (id: number, beforeId?: number | null) =>
    api.get<MessagePage>(`/api/inbox/conversations/${id}/messages/${beforeId ? `?before_id=${beforeId}` : ""}`),
  sendMessage: (id: number, text: string) => api.post<Message>(`/api/inbox/conversations/${id}/messages/`, { text }),
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
};
