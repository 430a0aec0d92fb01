import { describe, expect, it } from "vitest";
import { formatDateTime } from "./format";

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
