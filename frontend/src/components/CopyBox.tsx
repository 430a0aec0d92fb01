import { useState } from "react";
import { copyText } from "../browser";
import { useI18n } from "../i18n";

/** A read-only value with a copy button. */
export function CopyBox({ value, testId, label }: { value: string; testId: string; label: string }) {
  const { t } = useI18n();
  const [copied, setCopied] = useState(false);
  return (
    <div className="copy-box">
      <input readOnly aria-label={label} value={value} data-testid={testId} onFocus={(e) => e.currentTarget.select()} />
      <button
        type="button"
        className="btn btn-secondary"
        onClick={async () => {
          setCopied(await copyText(value));
          window.setTimeout(() => setCopied(false), 2000);
        }}
      >
        {copied ? t("common.copied") : t("common.copy")}
      </button>
    </div>
  );
}
