import { useState } from 'preact/hooks';
import { ApiError, errorText, getJson, setApiKey } from '../api';

/** Asks for the API key once the server has answered 401; keeps it in localStorage. */
export function KeyPrompt() {
  const [key, setKey] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    const k = key.trim();
    if (!k) return;
    setBusy(true);
    setError('');
    setApiKey(k);
    try {
      await getJson('/api/videos?limit=1');
      location.reload();
    } catch (err) {
      setApiKey('');
      setError(err instanceof ApiError && err.status === 401 ? 'The server did not accept this key.' : errorText(err));
      setBusy(false);
    }
  };

  return (
    <div class="modal-backdrop">
      <form class="modal" role="dialog" aria-modal="true" onSubmit={submit} aria-labelledby="key-title">
        <h2 id="key-title">API key needed</h2>
        <p>This cutroom server asks for an API key. It is kept in this browser only (localStorage).</p>
        <label for="api-key">API key</label>
        <input
          id="api-key"
          type="password"
          autocomplete="off"
          placeholder="cr_…"
          value={key}
          onInput={(e) => setKey((e.target as HTMLInputElement).value)}
          autoFocus
        />
        {error ? (
          <div class="error" role="alert">
            {error}
          </div>
        ) : null}
        <div class="row">
          <button type="submit" class="primary" disabled={busy || !key.trim()}>
            {busy ? 'Checking…' : 'Use this key'}
          </button>
        </div>
      </form>
    </div>
  );
}
