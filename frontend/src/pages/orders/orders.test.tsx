import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it } from "vitest";
import type { Order } from "../../api";
import { mockFetch, renderApp, sessionBody, shopConfig } from "../../test/utils";

const money = (el: HTMLElement) => el.textContent?.replace(/\s/g, " ");

const VARIANTS = [
  { id: 31, sku: "KAOS-M-HTM", label: "Kaos Polos M / Hitam", price: 150000, stock: 10 },
  { id: 32, sku: "KAOS-L-PTH", label: "Kaos Polos L / Putih", price: 160000, stock: 0 },
];

function order(id: number, extra: Partial<Order> = {}): Order {
  return {
    id,
    number: `WC-${1000 + id}`,
    contact: { id: 12, name: "Sari", phone: "+6281234" },
    status: "new",
    status_history: [{ status: "new", at: "2024-05-01T03:00:00Z", by_name: "Budi" }],
    allowed_transitions: ["confirmed", "cancelled"],
    payment_status: "unpaid",
    payment_method: "transfer",
    channel: "manual",
    currency: "IDR",
    subtotal: 300000,
    discount: 5000,
    shipping_fee: 10000,
    total: 305000,
    tracking_number: "",
    notes: "",
    conversation_id: null,
    items: [{ id: 1, variant_id: 31, description: "Kaos Polos M / Hitam", quantity: 2, unit_price: 150000, line_total: 300000 }],
    created_at: "2024-05-01T03:00:00Z",
    ...extra,
  };
}

describe("Orders", () => {
  beforeEach(() => {
    document.cookie = "csrftoken=tok; path=/";
  });

  it("new order form: live totals (2 × 150.000 + 10.000 − 5.000) and the payload", async () => {
    const { calls } = mockFetch({
      "GET /api/auth/session/": { body: sessionBody("owner") },
      "GET /api/crm/orders/": { body: { results: [order(3)], next_cursor: null } },
      "GET /api/crm/contacts/": { body: { results: [{ id: 12, name: "Sari", phone: "+6281234", city: "Bandung", labels: [] }], next_cursor: null } },
      "GET /api/crm/variants/": { body: VARIANTS },
      "POST /api/crm/orders/": { status: 201, body: order(77) },
      "GET /api/crm/orders/77/": { body: order(77) },
    });
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/orders");

    expect(await screen.findByTestId("order-row-3")).toHaveTextContent("WC-1003");
    await user.click(screen.getByTestId("order-new"));
    await user.type(screen.getByTestId("order-contact"), "Sari");
    await user.click(await screen.findByTestId("order-contact-option-12"));
    expect(screen.getByTestId("order-contact")).toHaveTextContent("Sari");

    await user.click(await screen.findByTestId("order-variant-option-31"));
    const qty = screen.getByTestId("order-qty-31");
    await user.clear(qty);
    await user.type(qty, "2");
    expect(money(screen.getByTestId("order-total"))).toBe("Rp 300.000");
    await user.type(screen.getByTestId("order-shipping"), "10000");
    await user.type(screen.getByTestId("order-discount"), "5000");
    expect(money(screen.getByTestId("order-subtotal"))).toBe("Rp 300.000");
    expect(money(screen.getByTestId("order-total"))).toBe("Rp 305.000");
    await user.selectOptions(screen.getByTestId("order-payment-method"), "transfer");
    await user.click(screen.getByTestId("order-save"));

    await waitFor(() => expect(screen.getByTestId("location")).toHaveTextContent("/orders/77"));
    const post = calls.find((c) => c.method === "POST" && c.url === "/api/crm/orders/");
    expect(post?.body).toEqual({
      contact_id: 12,
      items: [{ variant_id: 31, quantity: 2 }],
      discount: 5000,
      shipping_fee: 10000,
      payment_method: "transfer",
      channel: "manual",
      notes: "",
    });
    expect(money(await screen.findByTestId("order-detail-total"))).toBe("Rp 305.000");
  });

  it("order detail: ships with tracking + notify, shows the notification, and shows an invalid transition error", async () => {
    const paid = order(5, { status: "paid", payment_status: "paid", allowed_transitions: ["shipped", "cancelled"] });
    const shipped = order(5, {
      status: "shipped",
      tracking_number: "JNE123",
      allowed_transitions: ["completed", "new"],
      notification: { status: "failed", error_reason: "Template order_shipped is paused." },
    });
    const { calls } = mockFetch({
      "GET /api/auth/session/": { body: sessionBody("owner") },
      "GET /api/crm/orders/5/": { body: paid },
      "POST /api/crm/orders/5/status/": (call) =>
        (call.body as { status: string }).status === "shipped" ? { body: shipped } : { status: 400, body: { status: ["Cannot go from shipped to new."] } },
    });
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/orders/5");

    expect(await screen.findByTestId("order-items")).toHaveTextContent("Kaos Polos M / Hitam");
    expect(screen.queryByTestId("order-status-confirmed")).not.toBeInTheDocument();
    expect(screen.getByTestId("order-notify")).toBeChecked();
    await user.type(screen.getByTestId("order-tracking"), "JNE123");
    await user.click(screen.getByTestId("order-status-shipped"));

    expect(await screen.findByTestId("order-notification")).toHaveTextContent("Template order_shipped is paused.");
    expect(calls.find((c) => c.method === "POST")?.body).toEqual({ status: "shipped", tracking_number: "JNE123", notify: true });
    expect(screen.getByTestId("order-tracking-number")).toHaveTextContent("JNE123");

    await user.click(screen.getByTestId("order-notify"));
    await user.click(screen.getByTestId("order-status-new"));
    expect(await screen.findByTestId("order-status-error")).toHaveTextContent("Cannot go from shipped to new.");
    expect(calls.filter((c) => c.method === "POST").pop()?.body).toEqual({ status: "new", notify: false });
  });

  it("catalog: creates a product with variants", async () => {
    const { calls } = mockFetch({
      "GET /api/auth/session/": { body: sessionBody("owner") },
      "GET /api/crm/products/": { body: { results: [], next_cursor: null } },
      "POST /api/crm/products/": (call) => ({
        status: 201,
        body: { id: 4, ...(call.body as object), variants: [{ id: 1, sku: "KP-M", size: "M", color: "Hitam", price: 150000, stock: 10, active: true }] },
      }),
    });
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/orders/catalog");

    await user.click(await screen.findByTestId("product-new"));
    await user.type(screen.getByTestId("product-name"), "Kaos Polos");
    await user.type(screen.getByTestId("variant-sku-0"), "KP-M");
    await user.type(screen.getByTestId("variant-size-0"), "M");
    await user.type(screen.getByTestId("variant-color-0"), "Hitam");
    await user.type(screen.getByTestId("variant-price-0"), "150000");
    await user.type(screen.getByTestId("variant-stock-0"), "10");
    await user.click(screen.getByTestId("variant-add"));
    await user.type(screen.getByTestId("variant-sku-1"), "KP-L");
    await user.type(screen.getByTestId("variant-size-1"), "L");
    await user.type(screen.getByTestId("variant-price-1"), "160000");
    await user.click(screen.getByTestId("product-save"));

    expect(await screen.findByTestId("products-table")).toHaveTextContent("Kaos Polos");
    expect(calls.find((c) => c.method === "POST")?.body).toEqual({
      name: "Kaos Polos",
      description: "",
      image_url: "",
      active: true,
      variants: [
        { sku: "KP-M", size: "M", color: "Hitam", price: 150000, stock: 10 },
        { sku: "KP-L", size: "L", color: "", price: 160000, stock: 0 },
      ],
    });
  });
});

describe("Create order from the inbox", () => {
  beforeEach(() => {
    document.cookie = "csrftoken=tok; path=/";
  });

  it("pre-fills the contact and conversation: pick a product, save", async () => {
    const conv = {
      id: 1,
      status: "open",
      assignee_id: null,
      assignee_name: null,
      unread_count: 0,
      last_message_at: "2024-05-01T03:00:00Z",
      last_message_preview: "Mau pesan kak",
      window_open: true,
      window_expires_at: new Date(Date.now() + 3600_000).toISOString(),
      contact: { id: 10, name: "Customer 1", phone: "+628120001", wa_id: "628120001", email: "", source: "whatsapp", marketing_opt_out: false, created_at: "2024-01-15T17:30:00Z" },
    };
    let orderLists = 0;
    const { calls } = mockFetch({
      "GET /api/auth/session/": { body: sessionBody("owner") },
      "GET /api/inbox/conversations/": { body: { results: [conv], next_before: null } },
      "GET /api/inbox/conversations/1/": { body: conv },
      "GET /api/inbox/conversations/1/messages/": { body: { results: [], has_more: false } },
      "POST /api/inbox/conversations/1/read/": { status: 204 },
      "GET /api/team/members/": { body: [] },
      "GET /api/whatsapp/templates/": { body: [] },
      "GET /api/whatsapp/quick-replies/": { body: [] },
      "GET /api/crm/variants/": { body: VARIANTS },
      "GET /api/crm/orders/": () => {
        orderLists += 1;
        return { body: { results: orderLists > 1 ? [order(78, { contact: { id: 10, name: "Customer 1", phone: "+628120001" }, total: 150000 })] : [], next_cursor: null } };
      },
      "POST /api/crm/orders/": { status: 201, body: order(78, { total: 150000, conversation_id: 1, channel: "whatsapp" }) },
    });
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/inbox/1");

    expect(await screen.findByTestId("inbox-contact-link")).toHaveAttribute("href", "/contacts/10");
    await user.click(await screen.findByTestId("inbox-create-order"));
    expect(screen.getByTestId("order-contact")).toHaveTextContent("Customer 1");
    expect(screen.getByTestId("order-contact")).toHaveAttribute("data-contact-id", "10");
    expect(screen.getByTestId("order-channel")).toHaveValue("whatsapp");

    // Two clicks: pick the product, save.
    await user.click(await screen.findByTestId("order-variant-option-31"));
    await user.click(screen.getByTestId("order-save"));

    expect(await screen.findByTestId("inbox-order-created")).toHaveTextContent("WC-1078");
    expect(calls.find((c) => c.method === "POST" && c.url === "/api/crm/orders/")?.body).toEqual({
      contact_id: 10,
      items: [{ variant_id: 31, quantity: 1 }],
      discount: 0,
      shipping_fee: 0,
      payment_method: "",
      channel: "whatsapp",
      notes: "",
      conversation_id: 1,
    });
    // The contact card's recent orders refresh.
    expect(await screen.findByTestId("inbox-order-78")).toBeInTheDocument();
    expect(calls.filter((c) => c.url === "/api/crm/orders/?contact_id=10").length).toBeGreaterThanOrEqual(2);
  });
});
