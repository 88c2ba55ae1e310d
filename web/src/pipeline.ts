import type { Job } from './types';

export const ANALYSIS_KINDS = ['thumbnails', 'scenes', 'frames', 'transcription', 'clips', 'retention'];

export interface PipelineState {
  /** "processing", "processed", "failed" or "" (nothing beyond thumbnails ran). */
  state: '' | 'processing' | 'processed' | 'failed';
  progress: number;
  detail: string;
}

/** The newest job of each analysis kind. */
export function latestByKind(jobs: Job[]): Map<string, Job> {
  const out = new Map<string, Job>();
  for (const j of jobs) {
    if (!ANALYSIS_KINDS.includes(j.kind)) continue;
    const prev = out.get(j.kind);
    if (!prev || j.job_id > prev.job_id) out.set(j.kind, j);
  }
  return out;
}

export function pipelineState(jobs: Job[]): PipelineState {
  const latest = [...latestByKind(jobs).values()];
  const beyondThumbs = latest.filter((j) => j.kind !== 'thumbnails');
  const counted = beyondThumbs.length ? beyondThumbs : latest;
  const active = latest.filter((j) => j.status === 'queued' || j.status === 'running');
  if (active.length) {
    const progress = counted.reduce((a, j) => a + (j.status === 'succeeded' ? 1 : j.progress || 0), 0) / counted.length;
    const running = active.filter((j) => j.status === 'running').map((j) => j.kind);
    return {
      state: 'processing',
      progress,
      detail: running.length ? `running ${running.join(', ')}` : `queued ${active.map((j) => j.kind).join(', ')}`,
    };
  }
  const failed = latest.filter((j) => j.status === 'failed');
  if (failed.length) {
    return { state: 'failed', progress: 0, detail: `${failed.map((j) => j.kind).join(', ')} failed` };
  }
  if (beyondThumbs.some((j) => j.status === 'succeeded')) {
    return { state: 'processed', progress: 1, detail: beyondThumbs.map((j) => j.kind).join(', ') };
  }
  return { state: '', progress: 0, detail: '' };
}

/** Applies a job event to a job list (updates the job, or adds it). */
export function applyEvent(jobs: Job[], e: { job_id: string; kind: string; status: string; progress: number; video_id?: string; error?: string }): Job[] {
  const i = jobs.findIndex((j) => j.job_id === e.job_id);
  if (i >= 0) {
    const next = jobs.slice();
    next[i] = { ...next[i], status: e.status as Job['status'], progress: e.progress, error: e.error ?? next[i].error };
    return next;
  }
  const job: Job = {
    job_id: e.job_id,
    kind: e.kind,
    video_id: e.video_id ?? null,
    status: e.status as Job['status'],
    progress: e.progress,
    attempts: 0,
    error: e.error ?? null,
    created_at: new Date().toISOString(),
    started_at: null,
    finished_at: null,
  };
  return [job, ...jobs];
}
