import { describe, expect, it, vi } from "vitest";
import { ApiError, api, onShopSuspended } from "./api";
import { mockFetch } from "./test/utils";

describe("api client", () => {
  it("sends X-CSRFToken from the csrftoken cookie on POST, same-origin, JSON body", async () => {
    document.cookie = "csrftoken=abc123; path=/";
    const { calls, fetchMock } = mockFetch({ "POST /api/things/": { status: 201, body: { id: 7 } } });

    const result = await api.post<{ id: number }>("/api/things/", { name: "x" });

    expect(result).toEqual({ id: 7 });
    expect(calls).toHaveLength(1);
    expect(calls[0].headers["X-CSRFToken"]).toBe("abc123");
    expect(calls[0].headers["Content-Type"]).toBe("application/json");
    expect(calls[0].body).toEqual({ name: "x" });
    expect(fetchMock.mock.calls[0][1]).toMatchObject({ credentials: "same-origin", method: "POST" });
  });

  it("fetches /api/auth/csrf/ first when the cookie is missing and uses the returned token", async () => {
    const { calls } = mockFetch({
      "GET /api/auth/csrf/": { body: { csrfToken: "fresh-token" } },
      "DELETE /api/things/1/": { status: 204 },
    });

    await expect(api.delete("/api/things/1/")).resolves.toBeNull();

    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual(["GET /api/auth/csrf/", "DELETE /api/things/1/"]);
    expect(calls[1].headers["X-CSRFToken"]).toBe("fresh-token");
  });

  it("does not send a CSRF header on GET", async () => {
    document.cookie = "csrftoken=abc123; path=/";
    const { calls } = mockFetch({ "GET /api/team/members/": { body: [] } });
    await api.get("/api/team/members/");
    expect(calls[0].headers["X-CSRFToken"]).toBeUndefined();
  });

  it("turns DRF errors into an ApiError with status, field errors and detail", async () => {
    document.cookie = "csrftoken=t; path=/";
    mockFetch({
      "POST /api/a/": { status: 400, body: { email: ["Enter a valid email address."], non_field_errors: ["Nope."] } },
      "POST /api/b/": { status: 429, body: { detail: "Request was throttled. Expected available in 60 seconds." } },
    });

    const a = await api.post("/api/a/", {}).catch((e: unknown) => e);
    expect(a).toBeInstanceOf(ApiError);
    expect((a as ApiError).status).toBe(400);
    expect((a as ApiError).fieldErrors.email).toEqual(["Enter a valid email address."]);
    expect((a as ApiError).nonFieldErrors).toEqual(["Nope."]);

    const b = (await api.post("/api/b/", {}).catch((e: unknown) => e)) as ApiError;
    expect(b.status).toBe(429);
    expect(b.detail).toMatch(/throttled/);
  });

  it("notifies listeners when the shop is suspended (403 code shop_suspended)", async () => {
    mockFetch({ "GET /api/x/": { status: 403, body: { detail: "Shop suspended for non-payment.", code: "shop_suspended" } } });
    const listener = vi.fn();
    const unsubscribe = onShopSuspended(listener);
    await expect(api.get("/api/x/")).rejects.toMatchObject({ status: 403, code: "shop_suspended" });
    unsubscribe();
    expect(listener).toHaveBeenCalledWith("Shop suspended for non-payment.");
  });
});
