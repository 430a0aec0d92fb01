import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it } from "vitest";
import type { BoardStage, Deal } from "../../api";
import { mockFetch, renderApp, sessionBody, shopConfig } from "../../test/utils";
import { moveOnBoard } from "./PipelinePage";

const money = (el: HTMLElement) => el.textContent?.replace(/\s/g, " ");

function deal(id: number, value: number, extra: Partial<Deal> = {}): Deal {
  return {
    id,
    title: `Deal ${id}`,
    value,
    currency: "IDR",
    contact: { id: id * 10, name: `Customer ${id}`, phone: null },
    owner_id: 1,
    owner_name: "Sari Dewi",
    expected_close: null,
    position: 0,
    created_at: "2024-05-01T03:00:00Z",
    ...extra,
  };
}

function board(moved: boolean): { stages: BoardStage[] } {
  return {
    stages: [
      moved
        ? { id: 1, name: "Tanya-tanya", kind: "open", position: 1, count: 1, total_value: 300000, deals: [deal(102, 300000)] }
        : { id: 1, name: "Tanya-tanya", kind: "open", position: 1, count: 2, total_value: 450000, deals: [deal(101, 150000), deal(102, 300000)] },
      moved
        ? { id: 2, name: "Negosiasi", kind: "open", position: 2, count: 1, total_value: 150000, deals: [deal(101, 150000)] }
        : { id: 2, name: "Negosiasi", kind: "open", position: 2, count: 0, total_value: 0, deals: [] },
      { id: 3, name: "Berhasil", kind: "won", position: 3, count: 0, total_value: 0, deals: [] },
      { id: 4, name: "Gagal", kind: "lost", position: 4, count: 0, total_value: 0, deals: [] },
    ],
  };
}

function metrics(rate: string) {
  return {
    from: "2024-04-02",
    to: "2024-05-01",
    prospects_contacted: 8,
    won: 2,
    lost: 1,
    closing_rate: rate,
    win_rate_by_owner: [{ owner_id: 1, owner_name: "Sari Dewi", contacted: 8, won: 2, win_rate: rate }],
    average_days_to_close: 4.5,
    funnel: [
      { stage_id: 1, name: "Tanya-tanya", reached: 8, conversion_from_previous: null },
      { stage_id: 2, name: "Negosiasi", reached: 4, conversion_from_previous: "0.5000" },
    ],
    lost_reasons: [{ reason: "Harga", count: 1 }],
  };
}

function routes() {
  let moved = false;
  let metricCalls = 0;
  return {
    "GET /api/auth/session/": { body: sessionBody("owner") },
    "GET /api/team/members/": { body: [] },
    "GET /api/crm/deals/board/": () => ({ body: board(moved) }),
    "GET /api/crm/pipeline/metrics/": () => {
      metricCalls += 1;
      return { body: metrics(metricCalls > 1 ? "0.5000" : "0.2500") };
    },
    "POST /api/crm/deals/101/move/": (call: { body: unknown }) => {
      const body = call.body as { stage_id: number; lost_reason?: string };
      if (body.stage_id === 4 && !body.lost_reason) return { status: 400, body: { lost_reason: ["A reason is required."] } };
      moved = true;
      return { body: { ...deal(101, 150000), stage_id: body.stage_id, notes: "", history: [] } };
    },
  } as Parameters<typeof mockFetch>[0];
}

describe("Pipeline", () => {
  beforeEach(() => {
    document.cookie = "csrftoken=tok; path=/";
  });

  it("renders columns with totals and counts; moving a card posts the move and refreshes the closing rate", async () => {
    const { calls } = mockFetch(routes());
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/pipeline");

    const col = await screen.findByTestId("stage-col-1");
    expect(within(col).getByTestId("deal-card-101")).toHaveTextContent("Deal 101");
    expect(money(screen.getByTestId("stage-total-1"))).toBe("Rp 450.000");
    expect(screen.getByTestId("stage-count-1")).toHaveTextContent("2");
    expect(screen.getByTestId("stage-count-2")).toHaveTextContent("0");
    expect(await screen.findByTestId("pipeline-closing-rate")).toHaveTextContent("25%");
    const firstMetrics = calls.find((c) => c.url.startsWith("/api/crm/pipeline/metrics/"))!;
    const params = new URL(firstMetrics.url, "http://x").searchParams;
    expect(params.get("from")).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(params.get("to")).toMatch(/^\d{4}-\d{2}-\d{2}$/);

    await user.selectOptions(screen.getByTestId("deal-move-101"), "2");

    await waitFor(() => expect(within(screen.getByTestId("stage-col-2")).getByTestId("deal-card-101")).toBeInTheDocument());
    expect(calls.find((c) => c.method === "POST" && c.url === "/api/crm/deals/101/move/")?.body).toEqual({ stage_id: 2, position: 0 });
    await waitFor(() => expect(screen.getByTestId("pipeline-closing-rate")).toHaveTextContent("50%"));
    expect(calls.filter((c) => c.url.startsWith("/api/crm/pipeline/metrics/")).length).toBe(2);
    expect(calls.filter((c) => c.url.startsWith("/api/crm/deals/board/")).length).toBe(2);
    expect(money(screen.getByTestId("stage-total-2"))).toBe("Rp 150.000");

    // Changing the period refetches the metrics.
    await user.selectOptions(screen.getByTestId("pipeline-period"), "7");
    await waitFor(() => expect(calls.filter((c) => c.url.startsWith("/api/crm/pipeline/metrics/")).length).toBe(3));
  });

  it("moving to a lost stage asks for a reason first", async () => {
    const { calls } = mockFetch(routes());
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/pipeline");

    await user.selectOptions(await screen.findByTestId("deal-move-101"), "4");
    const reason = await screen.findByTestId("deal-lost-reason");
    expect(calls.some((c) => c.method === "POST")).toBe(false);
    expect(screen.getByTestId("deal-lost-confirm")).toBeDisabled();
    await user.type(reason, "Harga terlalu mahal");
    await user.click(screen.getByTestId("deal-lost-confirm"));

    await waitFor(() => expect(screen.queryByTestId("deal-lost-reason")).not.toBeInTheDocument());
    expect(calls.find((c) => c.method === "POST")?.body).toEqual({ stage_id: 4, position: 0, lost_reason: "Harga terlalu mahal" });
  });

  it("moveOnBoard keeps counts and totals consistent", () => {
    const next = moveOnBoard(board(false).stages, 101, 2, 0);
    expect(next[0].count).toBe(1);
    expect(Number(next[0].total_value)).toBe(300000);
    expect(next[1].deals.map((d) => d.id)).toEqual([101]);
    expect(Number(next[1].total_value)).toBe(150000);
  });
});
