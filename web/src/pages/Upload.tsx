import Uppy from '@uppy/core';
import Dashboard from '@uppy/dashboard';
import Tus from '@uppy/tus';
import '@uppy/core/css/style.min.css';
import '@uppy/dashboard/css/style.min.css';
import { useEffect, useRef, useState } from 'preact/hooks';
import { authHeaders, needKey, sendJson } from '../api';
import { ErrorBox } from '../components/common';
import { videoHref } from '../router';
import type { Video } from '../types';
import { videoTitle } from '../util';

interface Done {
  name: string;
  video_id: string;
}

export function UploadPage() {
  const target = useRef<HTMLDivElement>(null);
  const [done, setDone] = useState<Done[]>([]);

  useEffect(() => {
    // tus answers the PATCH that completes an upload with the new media's id.
    const videoIdByUrl = new Map<string, string>();
    const uppy = new Uppy({ id: 'cutroom-upload', autoProceed: false })
      .use(Dashboard, {
        inline: true,
        target: target.current!,
        width: '100%',
        height: 360,
        proudlyDisplayPoweredByUppy: false,
        note: 'Video, audio or images; the type is detected from the content. Uploads resume after a reload.',
        theme: 'light',
      })
      .use(Tus, {
        endpoint: '/api/uploads/',
        chunkSize: 8 * 1024 * 1024,
        retryDelays: [0, 1000, 3000, 5000],
        removeFingerprintOnSuccess: true,
        headers: () => authHeaders(),
        onAfterResponse: (req, res) => {
          const id = res.getHeader('Cutroom-Video-Id');
          if (id) videoIdByUrl.set(req.getURL(), id);
          if (res.getStatus() === 401) needKey.set(true);
        },
      });
    uppy.on('upload-success', (file, response) => {
      const url = response.uploadURL || '';
      let id = videoIdByUrl.get(url);
      if (!id) {
        for (const [u, v] of videoIdByUrl) if (url && (u.endsWith(url) || url.endsWith(u))) id = v;
      }
      if (id) setDone((d) => [...d, { name: file?.name || id!, video_id: id! }]);
    });
    return () => uppy.destroy();
  }, []);

  return (
    <section aria-labelledby="up-title">
      <div class="page-head">
        <h1 id="up-title">Upload</h1>
      </div>
      <div class="upload-layout">
        <div>
          <h2 class="h3">Files</h2>
          <div ref={target} class="uppy-target" />
          {done.length ? (
            <div class="done" aria-live="polite">
              <h2 class="h3">Uploaded</h2>
              <ul>
                {done.map((d) => (
                  <li key={d.video_id}>
                    <a href={videoHref(d.video_id)}>{d.name}</a> <span class="muted small">{d.video_id}</span>
                  </li>
                ))}
              </ul>
              <a href="#/">Go to the library</a>
            </div>
          ) : null}
        </div>
        <UrlImport />
      </div>
    </section>
  );
}

function UrlImport() {
  const [url, setUrl] = useState('');
  const [mode, setMode] = useState<'import' | 'reference'>('import');
  const [title, setTitle] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [result, setResult] = useState<Video | null>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const body: Record<string, string> = { url: url.trim(), mode };
      if (title.trim()) body.title = title.trim();
      setResult(await sendJson<Video>('POST', '/api/videos/upload', body));
      setUrl('');
      setTitle('');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="panel" onSubmit={submit} aria-labelledby="url-title">
      <h2 class="h3" id="url-title">From a URL</h2>
      <label for="import-url">Media URL (http or https)</label>
      <input id="import-url" type="url" required placeholder="https://example.com/talk.mp4" value={url} onInput={(e) => setUrl((e.target as HTMLInputElement).value)} />
      <label for="import-title">Title (optional)</label>
      <input id="import-title" maxLength={500} value={title} onInput={(e) => setTitle((e.target as HTMLInputElement).value)} />
      <fieldset>
        <legend>Mode</legend>
        <label class="inline">
          <input type="radio" name="mode" value="import" checked={mode === 'import'} onChange={() => setMode('import')} /> Import (download a copy)
        </label>
        <label class="inline">
          <input type="radio" name="mode" value="reference" checked={mode === 'reference'} onChange={() => setMode('reference')} /> Reference (read in place
          with range requests)
        </label>
      </fieldset>
      <button type="submit" class="primary" disabled={busy || !url.trim()}>
        {busy ? 'Sending…' : mode === 'import' ? 'Import' : 'Add reference'}
      </button>
      <ErrorBox error={error} title="Import refused" />
      {result ? (
        <p role="status">
          {result.status === 'pending' ? 'Importing ' : 'Added '}
          <a href={videoHref(result.video_id)}>{videoTitle(result)}</a> ({result.status}).
        </p>
      ) : null}
    </form>
  );
}
