import { describe, expect, it } from "vitest";
import { formatDateOnly, formatDateTime, formatRelative, formatTime, minutesUntil, zonedToIso } from "./format";

describe("formatDateTime", () => {
  // 17:30 UTC on 15 Jan is already 16 Jan 00:30 in Jakarta (UTC+7).
  const iso = "2024-01-15T17:30:00Z";

  it("uses the shop's time zone", () => {
    const jakarta = formatDateTime(iso, "Asia/Jakarta", "en");
    expect(jakarta).toContain("16 Jan 2024");
    expect(jakarta).toContain("00:30");

    const utc = formatDateTime(iso, "UTC", "en");
    expect(utc).toContain("15 Jan 2024");
    expect(utc).toContain("17:30");

    // Makassar is UTC+8.
    expect(formatDateTime(iso, "Asia/Makassar", "en")).toContain("01:30");
  });

  it("uses the current language's locale and defaults to Asia/Jakarta", () => {
    const id = formatDateTime(iso, null, "id");
    expect(id).toContain("16 Jan 2024");
    expect(id).toContain("00.30"); // Indonesian uses a dot as the time separator
  });

  it("handles empty and invalid values", () => {
    expect(formatDateTime(null, "Asia/Jakarta", "en")).toBe("");
    expect(formatDateTime("not a date", "Asia/Jakarta", "en")).toBe("not a date");
    expect(formatDateTime(iso, "Not/AZone", "en")).toContain("00:30");
  });
});

describe("time helpers for the inbox", () => {
  const now = Date.parse("2024-01-15T17:30:00Z");

  it("formatTime / formatDateOnly use the shop's time zone", () => {
    expect(formatTime("2024-01-15T17:30:00Z", "Asia/Jakarta", "en")).toBe("00:30");
    expect(formatTime("2024-01-15T17:30:00Z", "Asia/Jakarta", "id")).toBe("00.30");
    expect(formatDateOnly("2024-01-15T17:30:00Z", "Asia/Jakarta", "en")).toBe("16 Jan 2024");
  });

  it("formatRelative is relative within a day, then a short date in the shop's zone", () => {
    expect(formatRelative("2024-01-15T17:29:40Z", "Asia/Jakarta", "en", now)).toBe("now");
    expect(formatRelative("2024-01-15T17:25:00Z", "Asia/Jakarta", "en", now)).toBe("5 min ago");
    expect(formatRelative("2024-01-15T14:30:00Z", "Asia/Jakarta", "id", now)).toBe("3 jam lalu");
    expect(formatRelative("2024-01-10T17:30:00Z", "Asia/Jakarta", "en", now)).toBe("11 Jan 24");
    expect(formatRelative(null, "Asia/Jakarta", "en", now)).toBe("");
  });

  it("minutesUntil and zonedToIso", () => {
    expect(minutesUntil("2024-01-15T19:00:00Z", now)).toBe(90);
    expect(minutesUntil(null, now)).toBeNull();
    expect(zonedToIso("2026-01-05T20:30", "Asia/Jakarta")).toBe("2026-01-05T13:30:00.000Z");
    expect(zonedToIso("2026-01-05T20:30", "Asia/Makassar")).toBe("2026-01-05T12:30:00.000Z");
    expect(zonedToIso("", "Asia/Jakarta")).toBeNull();
  });
});
