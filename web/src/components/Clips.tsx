import { useEffect, useState } from 'preact/hooks';
import { getJson, mediaToken, mediaUrl, sendJson } from '../api';
import type { Player } from '../player';
import type { Clip, EditJob, Video } from '../types';
import { fmtBytes, fmtTime, isNotFound, pct, useJobEvents, useStore, type Loaded } from '../util';
import { Empty, ErrorBox, Progress } from './common';

export const CAPTION_STYLES: Record<string, { label: string; value: unknown }> = {
  bold: { label: 'Bold, word highlight', value: { bold: true, highlight: true, uppercase: true, position: 'middle' } },
  clean: { label: 'Clean, bottom', value: { highlight: false, position: 'bottom' } },
  top: { label: 'Top, highlight', value: { highlight: true, position: 'top' } },
  none: { label: 'No captions', value: false },
};

export interface RenderOptions {
  aspect: string;
  reframe: string;
  captions: string;
}

/** This video's renders, newest first, as the server lists them (from any browser or the CLI). */
export function useRenders(videoId: string) {
  const [renders, setRenders] = useState<EditJob[]>([]);
  const refresh = async (id: string) => {
    try {
      const ej = await getJson<EditJob>(`/api/edit-jobs/${id}`);
      setRenders((rs) => {
        const i = rs.findIndex((r) => r.edit_job_id === id);
        if (i < 0) return [ej, ...rs];
        const next = rs.slice();
        next[i] = ej;
        return next;
      });
    } catch (err) {
      if (isNotFound(err)) setRenders((rs) => rs.filter((r) => r.edit_job_id !== id));
    }
  };
  useEffect(() => {
    setRenders([]);
    let live = true;
    getJson<{ edit_jobs: EditJob[] }>(`/api/videos/${videoId}/edit-jobs`)
      .then((list) => {
        if (live) setRenders(list.edit_jobs);
      })
      .catch(() => {
        /* the panel shows renders started from here */
      });
    return () => {
      live = false;
    };
  }, [videoId]);
  useJobEvents((e) => {
    const r = renders.find((x) => x.job_id === e.job_id);
    if (!r) return;
    if (e.type === 'progress') {
      setRenders((rs) => rs.map((x) => (x.job_id === e.job_id ? { ...x, progress: e.progress, status: e.status === 'running' ? 'running' : x.status } : x)));
    } else void refresh(r.edit_job_id);
  });
  const start = async (body: Record<string, unknown>): Promise<EditJob> => {
    const created = await sendJson<{ edit_job_id: string }>('POST', '/api/edit-jobs', body);
    const ej = await getJson<EditJob>(`/api/edit-jobs/${created.edit_job_id}`);
    setRenders((rs) => [ej, ...rs.filter((r) => r.edit_job_id !== ej.edit_job_id)]);
    return ej;
  };
  return { renders, start, refresh };
}

export function RenderOptionsForm({ value, onChange, idPrefix }: { value: RenderOptions; onChange: (v: RenderOptions) => void; idPrefix: string }) {
  return (
    <div class="render-options">
      <label>
        Aspect
        <select id={`${idPrefix}-aspect`} value={value.aspect} onChange={(e) => onChange({ ...value, aspect: (e.target as HTMLSelectElement).value })}>
          <option value="9:16">9:16 vertical</option>
          <option value="1:1">1:1 square</option>
          <option value="16:9">16:9 wide</option>
          <option value="source">source</option>
        </select>
      </label>
      <label>
        Reframe
        <select id={`${idPrefix}-reframe`} value={value.reframe} onChange={(e) => onChange({ ...value, reframe: (e.target as HTMLSelectElement).value })}>
          <option value="auto">by content</option>
          <option value="face">follow faces</option>
          <option value="center">center</option>
          <option value="fit">fit over blur</option>
        </select>
      </label>
      <label>
        Captions
        <select id={`${idPrefix}-captions`} value={value.captions} onChange={(e) => onChange({ ...value, captions: (e.target as HTMLSelectElement).value })}>
          {Object.entries(CAPTION_STYLES).map(([k, s]) => (
            <option value={k}>{s.label}</option>
          ))}
        </select>
      </label>
    </div>
  );
}

export function RenderList({ renders }: { renders: EditJob[] }) {
  const token = useStore(mediaToken);
  if (!renders.length) return null;
  return (
    <div class="renders">
      <h3 class="h4">Renders</h3>
      <ul class="cards-list">
        {renders.map((r) => {
          const url = r.output_url ? mediaUrl(r.output_url, token.token) : '';
          const ranges = r.spec.ranges || [];
          return (
            <li class="row-card render" data-edit-job-id={r.edit_job_id} data-status={r.status}>
              {url ? <video class="render-video" src={url} controls preload="metadata" playsInline /> : null}
              <div class="render-info">
                <strong>{r.spec.aspect}</strong> <span class="muted">{r.spec.reframe}</span>{' '}
                <span class="muted small">
                  {ranges.map(([a, b]) => `${fmtTime(a, true)}–${fmtTime(b, true)}`).join(', ')}
                </span>
                <div class="small">
                  <span class={`badge badge-${r.status}`}>{r.status}</span>
                  {r.output ? (
                    <span class="muted">
                      {' '}
                      {r.output.width}×{r.output.height}, {fmtTime(r.output.duration_s, true)}, {fmtBytes(r.output.size_bytes)}
                    </span>
                  ) : null}
                </div>
                {r.status === 'queued' || r.status === 'running' ? <Progress value={r.progress || 0} label={`Render ${r.edit_job_id}`} /> : null}
                {r.error ? <div class="error small">{r.error}</div> : null}
                {url ? (
                  <a class="button small" href={url} download={`${r.edit_job_id}.mp4`}>
                    Download MP4
                  </a>
                ) : null}
              </div>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

export function ClipsPanel({ video, clips, player }: { video: Video; clips: Loaded<{ clips: Clip[] }>; player: Player }) {
  const token = useStore(mediaToken);
  const [opts, setOpts] = useState<RenderOptions>({ aspect: '9:16', reframe: 'auto', captions: 'bold' });
  const { renders, start } = useRenders(video.video_id);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState('');

  if (clips.error && !isNotFound(clips.error)) return <ErrorBox error={clips.error} />;
  if (!clips.data) return <p class="muted">Loading…</p>;
  const list = clips.data.clips;

  const render = async (c: Clip) => {
    setBusy(c.clip_id);
    setError(null);
    try {
      await start({
        video_id: video.video_id,
        clip_id: c.clip_id,
        aspect: opts.aspect,
        reframe: opts.reframe,
        captions: CAPTION_STYLES[opts.captions].value,
      });
    } catch (err) {
      setError(err);
    } finally {
      setBusy('');
    }
  };

  return (
    <div class="clips">
      <div class="panel-head">
        <RenderOptionsForm value={opts} onChange={setOpts} idPrefix="clip" />
      </div>
      <ErrorBox error={error} title="Render refused" />
      <RenderList renders={renders} />
      {!list.length ? <Empty>No clip candidates yet. Run “clips” in Process &amp; logs (it needs a transcript).</Empty> : null}
      <ol class="clip-list">
        {list.map((c, i) => (
          <li class="clip" data-clip-id={c.clip_id}>
            <div class="clip-head">
              <span class="rank">#{i + 1}</span>
              <h3 class="h4 clip-title">{c.title || `Clip ${i + 1}`}</h3>
              <span class="score" title="Score">
                {c.score.toFixed(2)}
              </span>
            </div>
            <div class="scorebar" aria-hidden="true">
              <div style={{ width: `${Math.max(0, Math.min(1, c.score)) * 100}%` }} />
            </div>
            <p class="muted small">
              {fmtTime(c.start_s, true)} – {fmtTime(c.end_s, true)} · {c.duration_s.toFixed(1)} s
            </p>
            {c.hook ? (
              <p>
                <span class="label">Hook:</span> “{c.hook}”
              </p>
            ) : null}
            {c.reason ? (
              <p>
                <span class="label">Why:</span> {c.reason}
              </p>
            ) : null}
            <Features features={c.features} />
            <div class="actions">
              <button type="button" onClick={() => player.playRange(c.start_s, c.end_s, c.title || `clip ${i + 1}`)}>
                ▶ Preview
              </button>
              <button type="button" class="primary" disabled={busy === c.clip_id} onClick={() => render(c)}>
                {busy === c.clip_id ? 'Starting…' : `Render ${opts.aspect}`}
              </button>
              <span class="exports small">
                Export:{' '}
                {['otio', 'edl', 'srt', 'vtt'].map((f) => (
                  <a href={mediaUrl(`/api/videos/${video.video_id}/clips/${c.clip_id}/export?format=${f}`, token.token)} download={`${c.clip_id}.${f}`}>
                    {f.toUpperCase()}
                  </a>
                ))}
              </span>
            </div>
          </li>
        ))}
      </ol>
    </div>
  );
}

function Features({ features }: { features: Clip['features'] }) {
  const weights = (features.weights || {}) as Record<string, number>;
  const keys = Object.keys(weights);
  if (!keys.length) return null;
  const pr = features.predicted_retention as { at_end?: number; at_3s?: number } | undefined;
  return (
    <details class="features">
      <summary>Feature breakdown</summary>
      <table>
        <thead>
          <tr>
            <th scope="col">feature</th>
            <th scope="col">value</th>
            <th scope="col">weight</th>
            <th scope="col">adds</th>
          </tr>
        </thead>
        <tbody>
          {keys.map((k) => {
            const v = Number(features[k] ?? 0);
            return (
              <tr>
                <th scope="row">{k.replace(/_/g, ' ')}</th>
                <td>
                  <span class="minibar">
                    <span style={{ width: `${Math.max(0, Math.min(1, v)) * 100}%` }} />
                  </span>
                  {v.toFixed(2)}
                </td>
                <td>{weights[k].toFixed(2)}</td>
                <td>{(v * weights[k]).toFixed(3)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {pr ? (
        <p class="small muted">
          Predicted retention: {pct(pr.at_3s)} at 3 s, {pct(pr.at_end)} to the end.
        </p>
      ) : null}
    </details>
  );
}
