/** Thin wrappers over browser APIs so tests can mock them. */
export function redirectTo(url: string): void {
  window.location.assign(url);
}

export async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard?.writeText) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    /* fall through */
  }
  return false;
}

/* ---------- Desktop notifications (optional; absent in jsdom) ---------- */

export type NotifyPermission = "default" | "granted" | "denied" | "unsupported";

export function notificationPermission(): NotifyPermission {
  if (typeof window === "undefined" || typeof window.Notification === "undefined") return "unsupported";
  return window.Notification.permission as NotifyPermission;
}

/** Must be called from a user gesture (click). */
export async function requestNotificationPermission(): Promise<NotifyPermission> {
  if (notificationPermission() === "unsupported") return "unsupported";
  try {
    return (await window.Notification.requestPermission()) as NotifyPermission;
  } catch {
    return notificationPermission();
  }
}

export function showNotification(title: string, body: string, tag?: string): void {
  if (notificationPermission() !== "granted") return;
  try {
    new window.Notification(title, { body, tag });
  } catch {
    /* some mobile browsers only allow notifications from a service worker */
  }
}

export function tabHidden(): boolean {
  return typeof document !== "undefined" && document.visibilityState === "hidden";
}
