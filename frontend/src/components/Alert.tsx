import type { ReactNode } from "react";

export function Alert({ kind = "error", children, testId }: { kind?: "error" | "success" | "info" | "warning"; children: ReactNode; testId?: string }) {
  return (
    <div className={`alert alert-${kind}`} role={kind === "error" ? "alert" : "status"} data-testid={testId}>
      {children}
    </div>
  );
}

/** Shows a list of messages in an error alert; renders nothing for an empty list. */
export function ErrorAlert({ messages }: { messages: string[] }) {
  if (messages.length === 0) return null;
  return (
    <Alert kind="error" testId="error-alert">
      {messages.length === 1 ? messages[0] : (
        <ul>
          {messages.map((m, i) => (
            <li key={i}>{m}</li>
          ))}
        </ul>
      )}
    </Alert>
  );
}
