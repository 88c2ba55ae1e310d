import { useState } from 'preact/hooks';
import { apiFetch, mediaToken, mediaUrl } from '../api';
import type { Player } from '../player';
import type { Retention, Video } from '../types';
import { fmtTime, isNotFound, pct, useStore, type Loaded } from '../util';
import { Empty, ErrorBox } from './common';
import { lostPct } from './Timeline';

export function RetentionPanel({ video, retention, player }: { video: Video; retention: Loaded<Retention>; player: Player }) {
  const token = useStore(mediaToken);
  const [file, setFile] = useState<File | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const upload = async (e: Event) => {
    e.preventDefault();
    if (!file) return;
    setBusy(true);
    setError(null);
    try {
      const type = file.name.endsWith('.csv') ? 'text/csv' : 'application/json';
      await apiFetch(`/api/videos/${video.video_id}/retention/import`, { method: 'POST', headers: { 'Content-Type': type }, body: await file.text() });
      retention.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const r = retention.data;
  const pred = r?.predicted;
  return (
    <div class="retention">
      {retention.error && !isNotFound(retention.error) ? <ErrorBox error={retention.error} /> : null}
      {!pred && !r?.imported ? <Empty>No retention prediction yet. Run “retention” in Process &amp; logs.</Empty> : null}
      {pred ? (
        <>
          <p>
            Predicted: {pct(pred.summary.at_3s)} still watching at 3 s, {pct(pred.summary.at_half)} at half, {pct(pred.summary.at_end)} to the end
            (average view {fmtTime(pred.summary.average_view_s)}). The curve is drawn behind the scrub bar under the player.
          </p>
          <h3 class="h4">Drop points</h3>
          <ul class="drop-list">
            {pred.drop_points.map((d) => (
              <li>
                <button type="button" class="small" onClick={() => player.seek(d.t_s)}>
                  {fmtTime(d.t_s, true)}
                </button>{' '}
                <span class="muted">−{lostPct(d.lost)}</span> {d.reasons.join('; ')}
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {r && (pred || r.imported) ? (
        <p>
          <a href={mediaUrl(`/api/videos/${video.video_id}/retention.svg`, token.token)} target="_blank" rel="noopener">
            Open the chart (SVG)
          </a>
        </p>
      ) : null}
      <form class="row wrap" onSubmit={upload}>
        <label for="ret-file">Import a real curve (YouTube Analytics JSON, Studio CSV, or {'{"points": [[t, share]]}'})</label>
        <input id="ret-file" type="file" accept=".json,.csv,application/json,text/csv" onChange={(e) => setFile((e.target as HTMLInputElement).files?.[0] || null)} />
        <button type="submit" disabled={!file || busy}>
          {busy ? 'Importing…' : 'Import'}
        </button>
      </form>
      <ErrorBox error={error} title="Import refused" />
    </div>
  );
}
