import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { endpoints, type Session } from "./api";
import { DEFAULT_TIMEZONE, useConfig, type ShopInfo } from "./config";
import { formatDateOnly, formatDateTime, formatRelative, formatTime } from "./format";
import { useI18n } from "./i18n";

export type SessionStatus = "loading" | "authenticated" | "anonymous";

export interface SessionValue {
  status: SessionStatus;
  session: Session | null;
  setSession: (session: Session | null) => void;
  /** Re-reads GET /api/auth/session/. */
  refresh: () => Promise<Session | null>;
  logout: () => Promise<void>;
}

const SessionContext = createContext<SessionValue | null>(null);

export function SessionProvider({ children }: { children?: ReactNode }) {
  const [session, setSessionState] = useState<Session | null>(null);
  const [status, setStatus] = useState<SessionStatus>("loading");

  const setSession = useCallback((next: Session | null) => {
    setSessionState(next);
    setStatus(next ? "authenticated" : "anonymous");
  }, []);

  const refresh = useCallback(async () => {
    try {
      const data = await endpoints.session();
      setSession(data);
      return data;
    } catch {
      // 401/403 (not logged in) or anything else: treat as logged out.
      setSession(null);
      return null;
    }
  }, [setSession]);

  const logout = useCallback(async () => {
    try {
      await endpoints.logout();
    } finally {
      setSession(null);
    }
  }, [setSession]);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  const value = useMemo(() => ({ status, session, setSession, refresh, logout }), [status, session, setSession, refresh, logout]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionValue {
  const ctx = useContext(SessionContext);
  if (!ctx) throw new Error("useSession must be used inside <SessionProvider>");
  return ctx;
}

/** The current shop: from the session when logged in, else from window.__WARUNG__. */
export function useShop(): ShopInfo | null {
  const config = useConfig();
  const ctx = useContext(SessionContext);
  return ctx?.session?.shop ?? config.shop;
}

/** Returns a formatter for API timestamps in the shop's time zone and the current language. */
export function useFormatDate(): (iso: string | null | undefined) => string {
  const shop = useShop();
  const { lang } = useI18n();
  const tz = shop?.timezone || DEFAULT_TIMEZONE;
  return useCallback((iso) => formatDateTime(iso, tz, lang), [tz, lang]);
}

export interface Formatters {
  dateTime: (iso: string | null | undefined) => string;
  date: (iso: string | null | undefined) => string;
  time: (iso: string | null | undefined) => string;
  relative: (iso: string | null | undefined) => string;
}

/** All timestamp formatters, in the shop's time zone and the current language. */
export function useFormatters(): Formatters {
  const shop = useShop();
  const { lang } = useI18n();
  const tz = shop?.timezone || DEFAULT_TIMEZONE;
  return useMemo(
    () => ({
      dateTime: (iso) => formatDateTime(iso, tz, lang),
      date: (iso) => formatDateOnly(iso, tz, lang),
      time: (iso) => formatTime(iso, tz, lang),
      relative: (iso) => formatRelative(iso, tz, lang),
    }),
    [tz, lang],
  );
}
