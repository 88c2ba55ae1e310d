// Talking to cutroom: fetch with the API key (when one is in use), the
// server's error shape as ApiError, media URLs with an access token, and the
// job event stream (fetch + a hand-written SSE parser, so the key travels in
// a header instead of a URL).

const KEY_STORAGE = 'cutroom.apiKey';

export class ApiError extends Error {
  status: number;
  code: string;
  details: unknown;
  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** A readable sentence for any thrown value. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 0) return err.message;
    return `${err.message} (${err.code}, HTTP ${err.status})`;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

// ---------------------------------------------------------------------------
// Tiny observable store, used for the auth state and the media token.

type Listener = () => void;
export class Store<T> {
  private value: T;
  private listeners = new Set<Listener>();
  constructor(v: T) {
    this.value = v;
  }
  get(): T {
    return this.value;
  }
  set(v: T) {
    this.value = v;
    for (const l of [...this.listeners]) l();
  }
  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
}

// ---------------------------------------------------------------------------
// API key

function storedKey(): string {
  try {
    return localStorage.getItem(KEY_STORAGE) || '';
  } catch {
    return '';
  }
}

/** The key in use ('' in local mode). */
export const apiKeyStore = new Store<string>(storedKey());

export function apiKey(): string {
  return apiKeyStore.get();
}

export function setApiKey(key: string) {
  if (key) localStorage.setItem(KEY_STORAGE, key);
  else localStorage.removeItem(KEY_STORAGE);
  apiKeyStore.set(key);
}

/** True once the server has refused a request for lack of a (valid) key. */
export const needKey = new Store<boolean>(false);

export function authHeaders(): Record<string, string> {
  const key = apiKey();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

async function errorFrom(res: Response): Promise<ApiError> {
  let code = 'http_error';
  let message = `${res.status} ${res.statusText}`.trim();
  let details: unknown;
  try {
    const text = await res.text();
    try {
      const body = JSON.parse(text);
      if (body && body.error) {
        code = body.error.code || code;
        message = body.error.message || message;
        details = body.error.details;
      }
    } catch {
      if (text) message = text.slice(0, 300);
    }
  } catch {
    /* body unreadable */
  }
  return new ApiError(res.status, code, message, details);
}

/** fetch() against the API; throws ApiError for any non-2xx answer. */
export async function apiFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  for (const [k, v] of Object.entries(authHeaders())) headers.set(k, v);
  let res: Response;
  try {
    res = await fetch(path, { ...init, headers });
  } catch (err) {
    if ((err as Error)?.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', `The server could not be reached (${(err as Error)?.message || err}).`);
  }
  if (res.status === 401) {
    needKey.set(true);
    throw await errorFrom(res);
  }
  if (!res.ok) throw await errorFrom(res);
  return res;
}

export async function getJson<T>(path: string, init?: RequestInit): Promise<T> {
  const res = await apiFetch(path, init);
  return (await res.json()) as T;
}

export async function sendJson<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await apiFetch(path, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

// ---------------------------------------------------------------------------
// Media token: URLs the browser loads by itself (<video>, <img>, downloads)
// cannot carry a header, so with a key they carry ?access_token= instead.

export interface MediaTokenState {
  /** '' when no key is in use (local mode): URLs go out as they are. */
  token: string;
  /** False while a key is in use and no token has arrived yet. */
  ready: boolean;
}

export const mediaToken = new Store<MediaTokenState>({ token: '', ready: !apiKey() });
let tokenTimer: ReturnType<typeof setTimeout> | undefined;

export async function refreshMediaToken(): Promise<void> {
  clearTimeout(tokenTimer);
  if (!apiKey()) {
    mediaToken.set({ token: '', ready: true });
    return;
  }
  try {
    const t = await getJson<{ token: string; expires_at: string }>('/api/media-token');
    mediaToken.set({ token: t.token, ready: true });
    const expires = Date.parse(t.expires_at);
    // Refresh five minutes early (at least a minute from now).
    const inMs = Number.isFinite(expires) ? Math.max(60_000, expires - Date.now() - 5 * 60_000) : 30 * 60_000;
    tokenTimer = setTimeout(refreshMediaToken, inMs);
  } catch (err) {
    // Without the route (older server) media URLs go out bare.
    mediaToken.set({ token: '', ready: true });
    if (!(err instanceof ApiError && err.status === 401)) tokenTimer = setTimeout(refreshMediaToken, 60_000);
  }
}

/** A URL for the browser to load itself, with the access token when a key is in use. */
export function mediaUrl(path: string, token = mediaToken.get().token): string {
  if (!token) return path;
  const hash = path.indexOf('#');
  const base = hash >= 0 ? path.slice(0, hash) : path;
  const frag = hash >= 0 ? path.slice(hash) : '';
  return `${base}${base.includes('?') ? '&' : '?'}access_token=${encodeURIComponent(token)}${frag}`;
}

// ---------------------------------------------------------------------------
// Job events (GET /api/events), one shared stream for the whole page.

export interface JobEvent {
  id: number;
  type: string; // "status" | "progress"
  job_id: string;
  kind: string;
  status: string;
  progress: number;
  attempts?: number;
  error?: string;
  video_id?: string;
}

type EventListener = (e: JobEvent) => void;
const eventListeners = new Set<EventListener>();
let eventsStarted = false;
let lastEventId = '';
export const eventsConnected = new Store<boolean>(false);

export function onJobEvent(l: EventListener): () => void {
  eventListeners.add(l);
  startEvents();
  return () => eventListeners.delete(l);
}

function dispatchEvent(block: string) {
  let type = 'message';
  let id = '';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (!line || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') type = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
  }
  if (id) lastEventId = id;
  if (!data.length) return;
  try {
    const payload = JSON.parse(data.join('\n'));
    const ev: JobEvent = { ...payload, id: Number(id) || 0, type };
    for (const l of [...eventListeners]) l(ev);
  } catch {
    /* not JSON: ignore */
  }
}

async function runEvents(): Promise<void> {
  const headers: Record<string, string> = { Accept: 'text/event-stream', ...authHeaders() };
  if (lastEventId) headers['Last-Event-ID'] = lastEventId;
  const res = await apiFetch('/api/events', { headers, cache: 'no-store' });
  if (!res.body) throw new Error('no event stream body');
  eventsConnected.set(true);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value.replace(/\r\n?/g, '\n');
    let cut: number;
    while ((cut = buf.indexOf('\n\n')) >= 0) {
      dispatchEvent(buf.slice(0, cut));
      buf = buf.slice(cut + 2);
    }
  }
}

function startEvents() {
  if (eventsStarted) return;
  eventsStarted = true;
  const loop = async () => {
    for (;;) {
      try {
        await runEvents();
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) {
          eventsConnected.set(false);
          eventsStarted = false;
          return; // the key prompt takes over; a reload restarts the stream
        }
      }
      eventsConnected.set(false);
      await new Promise((r) => setTimeout(r, 2000));
    }
  };
  void loop();
}
