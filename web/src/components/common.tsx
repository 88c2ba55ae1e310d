import type { ComponentChildren } from 'preact';
import { ApiError, errorText } from '../api';

export function ErrorBox({ error, title }: { error: unknown; title?: string }) {
  // A refused key is the key prompt's business, not every panel's.
  if (!error || (error instanceof ApiError && error.status === 401)) return null;
  return (
    <div class="error" role="alert">
      {title ? <strong>{title}: </strong> : null}
      {errorText(error)}
    </div>
  );
}

export function Progress({ value, label }: { value: number; label: string }) {
  const v = Math.max(0, Math.min(1, value || 0));
  return (
    <div class="progress" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(v * 100)}>
      <div class="progress-bar" style={{ width: `${v * 100}%` }} />
    </div>
  );
}

export function Badge({ kind, children }: { kind: string; children: ComponentChildren }) {
  return <span class={`badge badge-${kind}`}>{children}</span>;
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}
