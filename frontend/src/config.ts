import { createContext, useContext } from "react";

export type Lang = "id" | "en";
export type ShopStatus = "trial" | "active" | "suspended" | "deletion_pending";
export type Role = "owner" | "admin" | "agent";

export interface ShopInfo {
  name: string;
  slug: string;
  status: ShopStatus;
  timezone: string;
  locale: Lang;
  currency: string;
  /** Set while the shop waits for its deletion (Settings > Shop). */
  deletion_due_at?: string | null;
}

/** Injected by Django into index.html in place of `<!--app-config-->`. */
export interface WarungConfig {
  mode: "portal" | "shop";
  /** e.g. "localhost:8000" */
  platformDomain: string;
  shop: ShopInfo | null;
}

declare global {
  interface Window {
    __WARUNG__?: WarungConfig;
  }
}

export const DEFAULT_TIMEZONE = "Asia/Jakarta";

export function fallbackConfig(): WarungConfig {
  return {
    mode: "portal",
    platformDomain: (typeof window !== "undefined" && window.location.host) || "localhost:8000",
    shop: null,
  };
}

/** Reads window.__WARUNG__, falling back to portal mode when missing or malformed (dev, tests). */
export function getConfig(): WarungConfig {
  const raw = typeof window !== "undefined" ? window.__WARUNG__ : undefined;
  const base = fallbackConfig();
  if (!raw || typeof raw !== "object" || (raw.mode !== "portal" && raw.mode !== "shop")) {
    return base;
  }
  return {
    mode: raw.mode,
    platformDomain: raw.platformDomain || base.platformDomain,
    shop: raw.shop ?? null,
  };
}

export const ConfigContext = createContext<WarungConfig>(fallbackConfig());

export function useConfig(): WarungConfig {
  return useContext(ConfigContext);
}
