import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
vi.mock("../../browser", async (importOriginal) => ({ ...(await importOriginal<typeof import("../../browser")>()), redirectTo: vi.fn() }));
import { redirectTo } from "../../browser";
import type { Role } from "../../config";
import type { ShopExport } from "../../api";
import { mockFetch, renderApp, sessionBody, shopConfig } from "../../test/utils";
import { fileSize } from "./DataPage";

function exportRow(overrides: Partial<ShopExport> = {}): ShopExport {
  return {
    id: 7, status: "queued", progress: 0, rows_done: 0, rows_total: 0, file_size: 0, error: "",
    requested_by: "owner@toko.test", created_at: "2026-12-02T03:00:00Z", finished_at: null, expires_at: null,
    download_url: null, ...overrides,
  };
}

function routes(role: Role, extra = {}) {
  return { "GET /api/auth/session/": { body: sessionBody(role) }, "GET /api/data/exports/": { body: [] }, ...extra };
}

describe("Settings > Data", () => {
  beforeEach(() => {
    document.cookie = "csrftoken=tok; path=/";
    vi.mocked(redirectTo).mockClear();
  });

  it("the owner starts an export, watches it progress and downloads it through a fresh link", async () => {
    const answers = [
      exportRow({ status: "running", progress: 40 }),
      exportRow({ status: "ready", progress: 100, file_size: 1536 * 1024, expires_at: "2026-12-04T03:00:00Z", download_url: "/api/data/exports/7/download/?token=first" }),
      exportRow({ status: "ready", progress: 100, file_size: 1536 * 1024, expires_at: "2026-12-04T03:00:00Z", download_url: "/api/data/exports/7/download/?token=fresh" }),
    ];
    const { calls } = mockFetch(
      routes("owner", {
        "POST /api/data/exports/": { status: 202, body: exportRow() },
        "GET /api/data/exports/7/": () => ({ body: answers.length > 1 ? answers.shift() : answers[0] }),
      }),
    );
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/settings/data");

    expect(await screen.findByText("No exports yet.")).toBeInTheDocument();
    await user.click(screen.getByTestId("data-export-start"));
    expect(await screen.findByText("Preparing the export… 40%", {}, { timeout: 4000 })).toBeInTheDocument();
    expect(screen.getByTestId("data-export-start")).toBeDisabled();
    const ready = await screen.findByTestId("data-export-ready", {}, { timeout: 4000 });
    expect(ready).toHaveTextContent("Export ready: 1.5 MB.");
    expect(screen.getByTestId("data-export-row-7")).toHaveTextContent("Ready");

    await user.click(screen.getByTestId("data-export-download"));
    await waitFor(() => expect(redirectTo).toHaveBeenCalledWith("/api/data/exports/7/download/?token=fresh"));
    expect(calls.filter((c) => c.method === "POST")).toHaveLength(1);
  });

  it("a failed export says why, in Indonesian by default", async () => {
    mockFetch(routes("owner", { "GET /api/data/exports/": { body: [exportRow({ status: "failed", error: "disk penuh" })] } }));
    renderApp(shopConfig(), "/settings/data");

    expect(await screen.findByTestId("data-export-failed")).toHaveTextContent("Ekspor gagal: disk penuh. Silakan coba lagi.");
    expect(screen.getByTestId("data-export-start")).toBeEnabled();
    expect(screen.getByTestId("settings-data-tab")).toHaveTextContent("Data");
  });

  it("an admin sees no Data tab and the page says only owners may export", async () => {
    const { calls } = mockFetch(routes("admin"));
    renderApp(shopConfig({ locale: "en" }), "/settings/data");

    expect(await screen.findByTestId("data-forbidden")).toHaveTextContent("Only the shop's owners can export its data.");
    expect(screen.queryByTestId("settings-data-tab")).not.toBeInTheDocument();
    expect(calls.some((c) => c.url.startsWith("/api/data/"))).toBe(false);
  });

  it("sizes read as people read them", () => {
    expect(fileSize(512, "en")).toBe("512 B");
    expect(fileSize(1536, "en")).toBe("1.5 KB");
    expect(fileSize(1536, "id")).toBe("1,5 KB");
  });
});
