import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { mockFetch, portalConfig, renderApp } from "../../test/utils";

vi.mock("../../browser", () => ({ redirectTo: vi.fn(), copyText: vi.fn(async () => true) }));
import { redirectTo } from "../../browser";

async function fillForm(user: ReturnType<typeof userEvent.setup>) {
  await user.type(screen.getByLabelText("Nama toko"), "Toko Sari");
  await user.type(screen.getByLabelText("Subdomain yang diinginkan"), "sari");
  await user.type(screen.getByLabelText("Nama pemilik"), "Sari Dewi");
  await user.type(screen.getByLabelText("Email"), "sari@example.com");
  await user.type(screen.getByLabelText("Kata sandi"), "rahasia-123");
}

describe("SignupPage", () => {
  beforeEach(() => {
    document.cookie = "csrftoken=tok; path=/";
  });

  it("shows the subdomain suffix and the debounced availability reason", async () => {
    const { calls } = mockFetch({
      "GET /api/portal/subdomain-check/": { body: { available: false, reason: "This subdomain is already taken." } },
    });
    const user = userEvent.setup();
    renderApp(portalConfig, "/signup");

    expect(screen.getByTestId("subdomain-suffix")).toHaveTextContent(".localhost:8000");
    await user.type(screen.getByLabelText("Subdomain yang diinginkan"), "Sari");

    expect(await screen.findByText(/This subdomain is already taken\./)).toBeInTheDocument();
    const checks = calls.filter((c) => c.url.startsWith("/api/portal/subdomain-check/"));
    // Debounced: one request for the final value (lower-cased), not one per keystroke.
    expect(checks.map((c) => c.url)).toEqual(["/api/portal/subdomain-check/?subdomain=sari"]);
  });

  it("shows server field errors under the right field and non-field errors in an alert", async () => {
    mockFetch({
      "GET /api/portal/subdomain-check/": { body: { available: true, reason: null } },
      "POST /api/portal/signup/": {
        status: 400,
        body: { email: ["A user with this email already exists."], non_field_errors: ["Please check the form."] },
      },
    });
    const user = userEvent.setup();
    renderApp(portalConfig, "/");
    await fillForm(user);
    await user.click(screen.getByTestId("signup-submit"));

    const error = await screen.findByText("A user with this email already exists.");
    expect(error.closest(".field")?.querySelector("input")?.id).toBe("email");
    expect(screen.getByLabelText("Email")).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByRole("alert")).toHaveTextContent("Please check the form.");
    expect(screen.getByTestId("signup-submit")).toBeEnabled();
    expect(redirectTo).not.toHaveBeenCalled();
  });

  it("posts the JSON keys, disables the button while submitting, then redirects to the handoff URL", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { calls, fetchMock } = mockFetch({
      "GET /api/portal/subdomain-check/": { body: { available: true, reason: null } },
      "POST /api/portal/signup/": { status: 201, body: { redirect_url: "http://sari.localhost:8000/auth/handoff/xyz/" } },
    });
    const base = fetchMock.getMockImplementation()!;
    fetchMock.mockImplementation(async (input, init) => {
      if (String(input) === "/api/portal/signup/") await gate;
      return base(input, init);
    });
    const user = userEvent.setup();
    renderApp(portalConfig, "/signup");
    await fillForm(user);
    await user.type(screen.getByLabelText(/Nomor telepon/), "+628123");
    await user.click(screen.getByTestId("signup-submit"));

    expect(screen.getByTestId("signup-submit")).toBeDisabled();
    release();
    await waitFor(() => expect(redirectTo).toHaveBeenCalledWith("http://sari.localhost:8000/auth/handoff/xyz/"));
    const post = calls.find((c) => c.method === "POST")!;
    expect(post.body).toEqual({
      shop_name: "Toko Sari",
      subdomain: "sari",
      owner_name: "Sari Dewi",
      email: "sari@example.com",
      password: "rahasia-123",
      phone: "+628123",
    });
    expect(post.headers["X-CSRFToken"]).toBe("tok");
  });

  it("shows a landing page with a signup link for other portal paths", async () => {
    mockFetch({});
    renderApp(portalConfig, "/pricing");
    expect(screen.getByTestId("signup-link")).toHaveAttribute("href", "/signup");
    expect(screen.getByText(/namatoko\.localhost:8000/)).toBeInTheDocument();
  });
});
