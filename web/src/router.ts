// Hash routes (#/, #/upload, #/videos/ID?t=12.3, #/search?q=...): they work
// from any path the server hands index.html out for, and need no fallback.
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  path: string;
  params: URLSearchParams;
}

export function currentRoute(): Route {
  const raw = location.hash.replace(/^#/, '') || '/';
  const q = raw.indexOf('?');
  return {
    path: q >= 0 ? raw.slice(0, q) : raw,
    params: new URLSearchParams(q >= 0 ? raw.slice(q + 1) : ''),
  };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const on = () => setRoute(currentRoute());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

export function href(path: string, params?: Record<string, string | number | undefined>): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== '') qs.set(k, String(v));
  const s = qs.toString();
  return `#${path}${s ? `?${s}` : ''}`;
}

export function navigate(path: string, params?: Record<string, string | number | undefined>) {
  location.hash = href(path, params);
}

export function videoHref(id: string, t?: number): string {
  return href(`/videos/${encodeURIComponent(id)}`, { t: t === undefined ? undefined : t.toFixed(2) });
}
