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
