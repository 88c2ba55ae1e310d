import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, Store, getJson, onJobEvent, type JobEvent } from './api';

/** 75.3 -> "1:15.3"; 3725 -> "1:02:05". */
export function fmtTime(s: number | null | undefined, tenths = false): string {
  if (s == null || !Number.isFinite(s)) return '–';
  const neg = s < 0;
  s = Math.abs(s);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const secStr = tenths ? sec.toFixed(1).padStart(4, '0') : String(Math.floor(sec)).padStart(2, '0');
  const body = h > 0 ? `${h}:${String(m).padStart(2, '0')}:${secStr}` : `${m}:${secStr}`;
  return neg ? `-${body}` : body;
}

export function fmtBytes(n: number | null | undefined): string {
  if (n == null) return '–';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function pct(x: number | null | undefined): string {
  if (x == null || !Number.isFinite(x)) return '–';
  return `${Math.round(x * 100)}%`;
}

export function useStore<T>(store: Store<T>): T {
  const [, setTick] = useState(0);
  useEffect(() => store.subscribe(() => setTick((t) => t + 1)), [store]);
  return store.get();
}

export interface Loaded<T> {
  data: T | null;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** GETs a JSON document; `reload()` fetches it again. A null path loads nothing. */
export function useJson<T>(path: string | null, deps: unknown[] = []): Loaded<T> {
  const [state, setState] = useState<{ data: T | null; error: unknown; loading: boolean }>({
    data: null,
    error: null,
    loading: !!path,
  });
  const [n, setN] = useState(0);
  useEffect(() => {
    if (!path) {
      setState({ data: null, error: null, loading: false });
      return;
    }
    const ctl = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    getJson<T>(path, { signal: ctl.signal })
      .then((data) => setState({ data, error: null, loading: false }))
      .catch((error) => {
        if ((error as Error)?.name === 'AbortError') return;
        setState((s) => ({ data: s.data, error, loading: false }));
      });
    return () => ctl.abort();
  }, [path, n, ...deps]);
  return { ...state, reload: () => setN((x) => x + 1) };
}

export function isNotFound(err: unknown): boolean {
  return err instanceof ApiError && err.status === 404;
}

/** Calls fn for every job event (of one video when videoId is given). */
export function useJobEvents(fn: (e: JobEvent) => void, videoId?: string) {
  const latest = useRef(fn);
  latest.current = fn;
  useEffect(
    () =>
      onJobEvent((e) => {
        if (!videoId || e.video_id === videoId) latest.current(e);
      }),
    [videoId],
  );
}

/** A title for a video: its title, else its file name, else its id. */
export function videoTitle(v: { title: string | null; original_filename: string | null; video_id: string }): string {
  return v.title || v.original_filename || v.video_id;
}

export function download(url: string) {
  const a = document.createElement('a');
  a.href = url;
  a.download = '';
  document.body.appendChild(a);
  a.click();
  a.remove();
}
