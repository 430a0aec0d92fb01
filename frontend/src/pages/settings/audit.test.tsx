import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it } from "vitest";
import { mockFetch, renderApp, sessionBody, shopConfig, SHOP } from "../../test/utils";
import type { ContactDetail } from "../../api";

function contactDetail(id: number, extra: Partial<ContactDetail> = {}): ContactDetail {
  return {
    id, name: `Contact ${id}`, phone: `+62812000${id}`, email: "", city: "", labels: [], owner_id: null, owner_name: null,
    source: "whatsapp", marketing_opt_out: false, order_count: 2, total_spent: 300000, last_order_at: null, rfm_segment: null,
    created_at: "2024-01-15T17:30:00Z", address: "", birthday: null, gender: "", attributes: {}, notes: "",
    marketing_opt_out_at: null, marketing_opt_out_reason: "", wa_id: `62812000${id}`, conversation_id: null, last_inbound_at: null,
    first_order_at: null, erased_at: null, ...extra,
  };
}

function event(id: number, action: string, extra: Record<string, unknown> = {}) {
  return { id, action, actor_email: "sari@example.com", target: "", details: {}, ip: "203.0.113.9", created_at: "2024-05-02T03:00:00Z", ...extra };
}

describe("Settings > Audit log", () => {
  beforeEach(() => {
    document.cookie = "csrftoken=tok; path=/";
  });

  it("lists the shop's actions newest first in the user's language and pages to older ones", async () => {
    const { calls } = mockFetch({
      "GET /api/auth/session/": { body: sessionBody("admin") },
      "GET /api/audit/?page=1": {
        body: { count: 51, next: "/api/audit/?page=2", previous: null, results: [event(9, "team.role_changed", { details: { email: "budi@example.com", from: "agent", to: "admin" } }), event(8, "api_token.created")] },
      },
      "GET /api/audit/?page=2": { body: { count: 51, next: null, previous: "/api/audit/?page=1", results: [event(1, "shop.exported", { actor_email: "" })] } },
    });
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "id" }), "/settings/audit");

    const table = await screen.findByTestId("audit-table");
    const rows = within(table).getAllByRole("row").slice(1);
    expect(rows[0]).toHaveTextContent("Peran diubah");
    expect(rows[0]).toHaveTextContent("budi@example.com");
    expect(rows[0]).toHaveTextContent("agent");
    expect(rows[0]).toHaveTextContent("10.00"); // 03:00Z shown in Jakarta time
    expect(rows[1]).toHaveTextContent("Token API dibuat");
    expect(screen.getByTestId("audit-newer")).toBeDisabled();

    await user.click(screen.getByTestId("audit-older"));
    expect(await screen.findByTestId("audit-row-1")).toHaveTextContent("Sistem Warung CRM");
    expect(calls.map((c) => c.url)).toContain("/api/audit/?page=2");
  });

  it("agents see no audit tab and a refusal", async () => {
    mockFetch({ "GET /api/auth/session/": { body: sessionBody("agent") } });
    renderApp(shopConfig({ locale: "en" }), "/settings/audit");
    expect(await screen.findByTestId("audit-forbidden")).toHaveTextContent("Only owners and admins");
    expect(screen.queryByTestId("settings-audit-tab")).not.toBeInTheDocument();
  });
});

describe("Settings > Shop", () => {
  beforeEach(() => {
    document.cookie = "csrftoken=tok; path=/";
  });

  it("the owner deletes the shop with the password, sees the date on every page, and cancels", async () => {
    const pending = { ...sessionBody("owner"), shop: { ...SHOP, status: "deletion_pending" as const, deletion_due_at: "2024-06-01T03:00:00Z" } };
    let deleting = false;
    const { calls } = mockFetch({
      "GET /api/auth/session/": () => ({ body: deleting ? pending : sessionBody("owner") }),
      "GET /api/shop/deletion/": { body: { status: "active", deletion_due_at: null, grace_days: 14 } },
      "POST /api/shop/deletion/": (call) => {
        if ((call.body as { password: string }).password !== "rahasia") return { status: 400, body: { password: ["The password is not correct."] } };
        deleting = true;
        return { body: { status: "deletion_pending", deletion_due_at: "2024-06-01T03:00:00Z", grace_days: 14 } };
      },
      "DELETE /api/shop/deletion/": () => {
        deleting = false;
        return { body: { status: "active", deletion_due_at: null, grace_days: 14 } };
      },
    });
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/settings/shop");

    expect(await screen.findByTestId("shop-deletion-form")).toHaveTextContent("14 days");
    expect(screen.getByTestId("shop-deletion-submit")).toBeDisabled();
    await user.click(screen.getByTestId("shop-deletion-understood"));
    await user.type(screen.getByLabelText("Your password"), "salah");
    await user.click(screen.getByTestId("shop-deletion-submit"));
    expect(await screen.findByText("The password is not correct.")).toBeInTheDocument();

    await user.clear(screen.getByLabelText("Your password"));
    await user.type(screen.getByLabelText("Your password"), "rahasia");
    await user.click(screen.getByTestId("shop-deletion-submit"));
    expect(await screen.findByTestId("shop-deletion-pending")).toHaveTextContent("1 Jun 2024");
    expect(await screen.findByTestId("deletion-banner")).toHaveTextContent("Settings > Shop");

    await user.click(screen.getByTestId("shop-deletion-cancel"));
    await waitFor(() => expect(screen.queryByTestId("deletion-banner")).not.toBeInTheDocument());
    expect(screen.getByTestId("shop-deletion-form")).toBeInTheDocument();
    expect(calls.filter((c) => c.url === "/api/shop/deletion/").map((c) => c.method)).toEqual(["GET", "POST", "POST", "DELETE"]);
  });
});

describe("Erasing a customer", () => {
  beforeEach(() => {
    document.cookie = "csrftoken=tok; path=/";
  });

  function contactRoutes(role: "owner" | "agent") {
    return {
      "GET /api/auth/session/": { body: sessionBody(role) },
      "GET /api/crm/contacts/5/": { body: contactDetail(5, { name: "Ratna" }) },
      "GET /api/crm/contacts/5/timeline/": { body: { results: [], next_before: null } },
      "POST /api/crm/contacts/5/erase/": { body: contactDetail(5, { name: "", phone: null, erased_at: "2024-05-03T03:00:00Z" }) },
      "GET /api/crm/labels/": { body: [] },
      "GET /api/crm/attributes/": { body: [] },
      "GET /api/team/members/": { body: [] },
      "GET /api/crm/orders/": { body: { results: [], next_cursor: null } },
      "GET /api/crm/deals/board/": { body: { stages: [] } },
    };
  }

  it("an owner confirms by typing the word, and the card becomes anonymous", async () => {
    const { calls } = mockFetch(contactRoutes("owner"));
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "id" }), "/contacts/5");

    await user.click(await screen.findByTestId("contact-erase"));
    const dialog = screen.getByTestId("erase-dialog");
    expect(dialog).toHaveTextContent("Ratna");
    expect(within(dialog).getByTestId("erase-confirm")).toBeDisabled();
    await user.type(within(dialog).getByLabelText("Ketik HAPUS untuk mengonfirmasi"), "hapus");
    await user.click(within(dialog).getByTestId("erase-confirm"));

    expect(await screen.findByTestId("contact-erased")).toHaveTextContent("dihapus atas permintaan");
    expect(screen.getByTestId("contact-title")).toHaveTextContent("Pelanggan terhapus #5");
    expect(screen.queryByTestId("contact-erase")).not.toBeInTheDocument();
    expect(calls.filter((c) => c.method === "POST").map((c) => c.url)).toEqual(["/api/crm/contacts/5/erase/"]);
  });

  it("agents are not offered the erasure", async () => {
    mockFetch(contactRoutes("agent"));
    renderApp(shopConfig({ locale: "en" }), "/contacts/5");
    expect(await screen.findByTestId("contact-title")).toHaveTextContent("Ratna");
    expect(screen.queryByTestId("contact-erase")).not.toBeInTheDocument();
  });
});
