import { render } from "@testing-library/react";
import { MemoryRouter, useLocation } from "react-router-dom";
import { vi } from "vitest";
import { App } from "../App";
import type { Session } from "../api";
import type { Role, ShopInfo, WarungConfig } from "../config";

export const SHOP: ShopInfo = {
  name: "Toko Sari",
  slug: "sari",
  status: "active",
  timezone: "Asia/Jakarta",
  locale: "id",
  currency: "IDR",
};

export function shopConfig(shop: Partial<ShopInfo> = {}): WarungConfig {
  return { mode: "shop", platformDomain: "localhost:8000", shop: { ...SHOP, ...shop } };
}

export const portalConfig: WarungConfig = { mode: "portal", platformDomain: "localhost:8000", shop: null };

export function sessionBody(role: Role = "owner", user: Partial<Session["user"]> = {}): Session {
  return { user: { id: 1, name: "Sari Dewi", email: "sari@example.com", ...user }, role, shop: SHOP };
}

export interface Call {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

type Handler = (call: Call) => { status?: number; body?: unknown } | undefined;

/**
 * Replaces global fetch with a router: keys are "METHOD /path" (query string included if given).
 * Unmatched requests answer 404. Returns the list of recorded calls.
 */
export function mockFetch(routes: Record<string, Handler | { status?: number; body?: unknown }>) {
  const calls: Call[] = [];
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = String(input);
    const method = (init.method ?? "GET").toUpperCase();
    const headers = Object.fromEntries(Object.entries((init.headers ?? {}) as Record<string, string>));
    const call: Call = { method, url, headers, body: init.body instanceof FormData ? init.body : init.body ? JSON.parse(String(init.body)) : undefined };
    calls.push(call);
    const path = url.split("?")[0];
    const route = routes[`${method} ${url}`] ?? routes[`${method} ${path}`];
    const result = typeof route === "function" ? route(call) : route;
    const status = result?.status ?? (route ? 200 : 404);
    const body = result?.body ?? (route ? {} : { detail: "Not found." });
    return new Response(status === 204 ? null : JSON.stringify(body), {
      status,
      headers: { "Content-Type": "application/json" },
    });
  });
  vi.stubGlobal("fetch", fetchMock);
  return { calls, fetchMock };
}

export function LocationProbe() {
  const location = useLocation();
  return <div data-testid="location">{location.pathname}</div>;
}

export function renderApp(config: WarungConfig, path = "/") {
  return render(
    <MemoryRouter initialEntries={[path]}>
      <App config={config} />
      <LocationProbe />
    </MemoryRouter>,
  );
}
