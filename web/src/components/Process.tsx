import { useEffect, useRef, useState } from 'preact/hooks';
import { getJson, sendJson } from '../api';
import { applyEvent, pipelineState } from '../pipeline';
import type { Job, LogLine, Video } from '../types';
import { useJobEvents } from '../util';
import { Badge, ErrorBox, Progress } from './common';

type Params = Record<string, unknown>;

interface StageDef {
  stage: string;
  label: string;
  about: string;
  defaults: Params;
  fields: { key: string; label: string; type: 'number' | 'bool' | 'text' | 'select'; options?: string[]; step?: number; min?: number }[];
}

const STAGES: StageDef[] = [
  {
    stage: 'scenes',
    label: 'Scenes',
    about: 'Cuts, fades and dissolves; a keyframe per scene.',
    defaults: {},
    fields: [
      { key: 'threshold', label: 'Cut threshold', type: 'number', step: 1, min: 1 },
      { key: 'describe', label: 'Describe keyframes (LLM)', type: 'bool' },
    ],
  },
  {
    stage: 'frames',
    label: 'Frames',
    about: 'Sampled frames with faces, OCR text and descriptions.',
    defaults: {},
    fields: [
      { key: 'interval_s', label: 'Every (s)', type: 'number', step: 0.5, min: 0.1 },
      { key: 'ocr', label: 'OCR', type: 'bool' },
      { key: 'faces', label: 'Faces', type: 'bool' },
      { key: 'describe', label: 'Describe (LLM)', type: 'bool' },
    ],
  },
  {
    stage: 'transcription',
    label: 'Transcription',
    about: 'Speech to timed words.',
    defaults: {},
    fields: [
      { key: 'engine', label: 'Engine', type: 'select', options: ['', 'pocketsphinx', 'openai', 'videodb'] },
      { key: 'language', label: 'Language', type: 'text' },
      { key: 'verbatim', label: 'Verbatim (keep fillers)', type: 'bool' },
    ],
  },
  {
    stage: 'clips',
    label: 'Clips',
    about: 'Clip candidates on sentence edges, scored.',
    defaults: {},
    fields: [
      { key: 'min_s', label: 'Min length (s)', type: 'number', step: 1, min: 1 },
      { key: 'max_s', label: 'Max length (s)', type: 'number', step: 1, min: 1 },
      { key: 'count', label: 'How many', type: 'number', step: 1, min: 1 },
      { key: 'llm', label: 'Rerank with LLM', type: 'bool' },
    ],
  },
  { stage: 'retention', label: 'Retention', about: 'Predicted audience retention and drop points.', defaults: {}, fields: [] },
];

function cleanParams(p: Params): Params | undefined {
  const out: Params = {};
  for (const [k, v] of Object.entries(p)) {
    if (v === '' || v === undefined || v === null || (typeof v === 'number' && !Number.isFinite(v))) continue;
    out[k] = v;
  }
  return Object.keys(out).length ? out : undefined;
}

export function ProcessPanel({ video }: { video: Video }) {
  const id = video.video_id;
  const [jobs, setJobs] = useState<Job[]>([]);
  const [logs, setLogs] = useState<LogLine[]>([]);
  const [params, setParams] = useState<Record<string, Params>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState('');
  const logTimer = useRef<ReturnType<typeof setTimeout>>();

  const loadJobs = () =>
    getJson<{ jobs: Job[] }>(`/api/jobs?video_id=${id}&limit=100`)
      .then((r) => setJobs(r.jobs))
      .catch(setError);
  const loadLogs = async () => {
    try {
      let all: LogLine[] = [];
      let cursor = '';
      for (let i = 0; i < 20; i++) {
        const r = await getJson<{ logs: LogLine[]; next_cursor: string | null }>(`/api/videos/${id}/logs?limit=200${cursor ? `&cursor=${cursor}` : ''}`);
        all = all.concat(r.logs);
        if (!r.next_cursor) break;
        cursor = r.next_cursor;
      }
      setLogs(all);
    } catch (err) {
      setError(err);
    }
  };
  useEffect(() => {
    void loadJobs();
    void loadLogs();
    return () => clearTimeout(logTimer.current);
  }, [id]);

  useJobEvents((e) => {
    setJobs((js) => applyEvent(js, e));
    if (e.type === 'status') {
      clearTimeout(logTimer.current);
      logTimer.current = setTimeout(loadLogs, 500);
    }
  }, id);

  const run = async (stage: string) => {
    setBusy(stage);
    setError(null);
    try {
      let body: Params | undefined;
      if (stage === 'all') {
        const all: Params = {};
        for (const s of STAGES) {
          const p = cleanParams(params[s.stage] || {});
          if (p) all[s.stage] = p;
        }
        body = Object.keys(all).length ? all : undefined;
      } else body = cleanParams(params[stage] || {});
      await sendJson('POST', `/api/videos/${id}/process/${stage}`, body);
      await loadJobs();
    } catch (err) {
      setError(err);
    } finally {
      setBusy('');
    }
  };
  const cancel = async (jobId: string) => {
    try {
      await sendJson('POST', `/api/jobs/${jobId}/cancel`);
    } catch (err) {
      setError(err);
    }
  };

  const p = pipelineState(jobs);
  const set = (stage: string, key: string, v: unknown) => setParams((ps) => ({ ...ps, [stage]: { ...(ps[stage] || {}), [key]: v } }));

  return (
    <div class="process">
      <div class="panel-head">
        <div>
          <button type="button" class="primary" onClick={() => run('all')} disabled={!!busy || video.status !== 'ready'}>
            {busy === 'all' ? 'Queuing…' : 'Run all stages'}
          </button>{' '}
          {p.state ? (
            <Badge kind={p.state}>
              <span class="pipeline-state">{p.state}</span>
              {p.state === 'processing' ? ` ${Math.round(p.progress * 100)}%` : ''}
            </Badge>
          ) : null}
          {video.status !== 'ready' ? <span class="muted small"> The media is {video.status}; it can be processed once it is ready.</span> : null}
        </div>
        {p.state === 'processing' ? <Progress value={p.progress} label="Pipeline progress" /> : null}
      </div>
      <ErrorBox error={error} title="Could not queue" />
      <div class="stage-grid">
        {STAGES.map((s) => (
          <form
            class="stage"
            onSubmit={(e) => {
              e.preventDefault();
              void run(s.stage);
            }}
          >
            <h3 class="h4">{s.label}</h3>
            <p class="muted small">{s.about}</p>
            {s.fields.map((f) => {
              const fid = `p-${s.stage}-${f.key}`;
              const val = params[s.stage]?.[f.key];
              if (f.type === 'bool') {
                return (
                  <label class="inline small" for={fid}>
                    <input id={fid} type="checkbox" checked={!!val} onChange={(e) => set(s.stage, f.key, (e.target as HTMLInputElement).checked || undefined)} /> {f.label}
                  </label>
                );
              }
              if (f.type === 'select') {
                return (
                  <label class="small" for={fid}>
                    {f.label}
                    <select id={fid} value={String(val ?? '')} onChange={(e) => set(s.stage, f.key, (e.target as HTMLSelectElement).value)}>
                      {f.options!.map((o) => (
                        <option value={o}>{o || 'default'}</option>
                      ))}
                    </select>
                  </label>
                );
              }
              return (
                <label class="small" for={fid}>
                  {f.label}
                  <input
                    id={fid}
                    type={f.type}
                    step={f.step}
                    min={f.min}
                    placeholder="default"
                    value={val === undefined ? '' : String(val)}
                    onInput={(e) => {
                      const raw = (e.target as HTMLInputElement).value;
                      set(s.stage, f.key, f.type === 'number' ? (raw === '' ? undefined : Number(raw)) : raw);
                    }}
                  />
                </label>
              );
            })}
            <button type="submit" disabled={!!busy || video.status !== 'ready'}>
              {busy === s.stage ? 'Queuing…' : `Run ${s.label.toLowerCase()}`}
            </button>
          </form>
        ))}
      </div>

      <h3 class="h4">Jobs</h3>
      <div class="table-wrap">
        <table class="jobs">
          <thead>
            <tr>
              <th scope="col">kind</th>
              <th scope="col">status</th>
              <th scope="col">progress</th>
              <th scope="col">error</th>
              <th scope="col">
                <span class="sr-only">actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {jobs.map((j) => (
              <tr data-job-id={j.job_id}>
                <td>{j.kind}</td>
                <td>
                  <Badge kind={j.status}>{j.status}</Badge>
                </td>
                <td class="progress-cell">
                  <Progress value={j.status === 'succeeded' ? 1 : j.progress} label={`${j.kind} progress`} />
                </td>
                <td class="small">{j.error || ''}</td>
                <td>
                  {j.status === 'queued' || j.status === 'running' ? (
                    <button type="button" class="small" onClick={() => cancel(j.job_id)}>
                      Cancel
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      <h3 class="h4">Processing logs</h3>
      <div class="logs" tabIndex={0} aria-label="Processing logs">
        {logs.length ? (
          logs.map((l) => (
            <div class={`log log-${l.level}`}>
              <span class="muted">{l.ts.slice(11, 19)}</span> <span class="log-stage">{l.stage || ''}</span> <span class="log-level">{l.level}</span> {l.message}
            </div>
          ))
        ) : (
          <span class="muted">No logs yet.</span>
        )}
      </div>
    </div>
  );
}
