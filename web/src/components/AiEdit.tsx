import { useEffect, useState } from 'preact/hooks';
import { getJson, mediaToken, mediaUrl, sendJson } from '../api';
import type { Player } from '../player';
import type { AiEditJob, PlanOutput, Video } from '../types';
import { fmtTime, useStore } from '../util';
import { CAPTION_STYLES, RenderList, RenderOptionsForm, useRenders, type RenderOptions } from './Clips';
import { ErrorBox } from './common';

const EXAMPLES = ['remove the silences', 'a 20 second teaser', 'tighten the gaps', 'three clips about customers'];

/** An instruction becomes a plan (dry run), drawn as a timeline; rendering is a second, explicit step. */
export function AiEditPanel({ video, player }: { video: Video; player: Player }) {
  const token = useStore(mediaToken);
  const [instruction, setInstruction] = useState('');
  const [outputs, setOutputs] = useState(1);
  const [job, setJob] = useState<AiEditJob | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [history, setHistory] = useState<AiEditJob[]>([]);
  const [opts, setOpts] = useState<RenderOptions>({ aspect: '9:16', reframe: 'auto', captions: 'bold' });
  const { renders, start } = useRenders(video.video_id);

  useEffect(() => {
    getJson<{ ai_edit_jobs?: AiEditJob[]; jobs?: AiEditJob[] }>(`/api/videos/${video.video_id}/ai-edit-jobs`)
      .then((r) => setHistory(r.ai_edit_jobs || r.jobs || []))
      .catch(() => {});
  }, [video.video_id, job?.status]);

  // Poll the job until its plan is ready (or it failed).
  useEffect(() => {
    // queued, planning, running, rendering: poll until it settles.
    if (!job || ['succeeded', 'failed', 'cancelled'].includes(job.status)) return;
    const timer = setTimeout(async () => {
      try {
        setJob(await getJson<AiEditJob>(`/api/ai-edit-jobs/${job.ai_edit_job_id}`));
      } catch (err) {
        setError(err);
      }
    }, 800);
    return () => clearTimeout(timer);
  }, [job]);

  const plan = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setJob(null);
    try {
      const r = await sendJson<{ ai_edit_job_id: string }>('POST', '/api/ai-edit-jobs', {
        video_id: video.video_id,
        instruction: instruction.trim(),
        outputs,
        render: false,
      });
      setJob(await getJson<AiEditJob>(`/api/ai-edit-jobs/${r.ai_edit_job_id}`));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const renderOutput = async (o: PlanOutput) => {
    setError(null);
    try {
      await start({
        video_id: video.video_id,
        ranges: o.ranges.map((r) => [r.start_s, r.end_s]),
        aspect: opts.aspect,
        reframe: opts.reframe,
        captions: CAPTION_STYLES[opts.captions].value,
      });
    } catch (err) {
      setError(err);
    }
  };

  const d = video.duration_s || 1;
  const planOutputs = job?.plan?.outputs || [];
  return (
    <div class="ai-edit">
      <form class="ai-form" onSubmit={plan}>
        <label for="ai-instruction">Instruction</label>
        <textarea
          id="ai-instruction"
          rows={2}
          placeholder="e.g. remove silences and cut it to 30 seconds"
          value={instruction}
          onInput={(e) => setInstruction((e.target as HTMLTextAreaElement).value)}
        />
        <div class="row wrap">
          <label class="inline">
            Outputs
            <input type="number" min={1} max={5} value={outputs} onInput={(e) => setOutputs(Number((e.target as HTMLInputElement).value) || 1)} class="narrow" />
          </label>
          <button type="submit" class="primary" disabled={busy || !instruction.trim()}>
            {busy ? 'Planning…' : 'Plan edit'}
          </button>
          <span class="muted small">
            Try:{' '}
            {EXAMPLES.map((x) => (
              <button type="button" class="link small" onClick={() => setInstruction(x)}>
                {x}
              </button>
            ))}
          </span>
        </div>
      </form>
      <ErrorBox error={error} title="The edit could not be planned" />
      {job ? (
        <div class="plan" aria-live="polite">
          <p>
            <span class={`badge badge-${job.status}`}>{job.status}</span> {job.planner ? <span class="muted small">planner: {job.planner}</span> : null}
          </p>
          {job.error ? <div class="error">{job.error}</div> : null}
          {(job.warnings || []).map((w) => (
            <p class="warning small">{w}</p>
          ))}
          {planOutputs.length ? (
            <>
              <RenderOptionsForm value={opts} onChange={setOpts} idPrefix="ai" />
              {planOutputs.map((o, oi) => (
                <div class="plan-output">
                  <div class="row wrap">
                    <strong>{o.name || `output ${oi + 1}`}</strong>
                    <span class="muted small">
                      {o.ranges.length} range(s), {fmtTime(o.duration_s ?? o.ranges.reduce((a, r) => a + (r.end_s - r.start_s), 0), true)}
                    </span>
                    <button type="button" class="small" onClick={() => playPlan(player, o)}>
                      ▶ Preview the edit
                    </button>
                    <button type="button" class="small primary" onClick={() => renderOutput(o)}>
                      Render this output
                    </button>
                    {job.status === 'succeeded' ? (
                      <span class="small exports">
                        Export:{' '}
                        {['otio', 'edl', 'fcpxml'].map((f) => (
                          <a href={mediaUrl(`/api/ai-edit-jobs/${job.ai_edit_job_id}/export?format=${f}${f !== 'fcpxml' ? `&output=${oi}` : ''}`, token.token)} download>
                            {f.toUpperCase()}
                          </a>
                        ))}
                      </span>
                    ) : null}
                  </div>
                  <div class="plan-timeline" aria-label={`Kept ranges of ${o.name || `output ${oi + 1}`} over the source`}>
                    {o.ranges.map((r) => (
                      <button
                        type="button"
                        class="plan-range"
                        style={{ left: `${(r.start_s / d) * 100}%`, width: `${Math.max(0.3, ((r.end_s - r.start_s) / d) * 100)}%` }}
                        title={`${fmtTime(r.start_s, true)}–${fmtTime(r.end_s, true)}${r.because ? `: ${r.because}` : ''}`}
                        aria-label={`Range ${fmtTime(r.start_s, true)} to ${fmtTime(r.end_s, true)}`}
                        onClick={() => player.playRange(r.start_s, r.end_s, 'planned range')}
                      />
                    ))}
                  </div>
                  <details>
                    <summary>Ranges and reasons</summary>
                    <ol class="small">
                      {o.ranges.map((r) => (
                        <li>
                          {fmtTime(r.start_s, true)} – {fmtTime(r.end_s, true)}
                          {r.speed && r.speed !== 1 ? ` ×${r.speed}` : ''} {r.because ? <span class="muted">— {r.because}</span> : null}
                        </li>
                      ))}
                    </ol>
                  </details>
                </div>
              ))}
            </>
          ) : null}
        </div>
      ) : null}
      <RenderList renders={renders} />
      {history.length ? (
        <details class="history">
          <summary>Earlier AI edits ({history.length})</summary>
          <ul class="small">
            {history.map((h) => (
              <li>
                <button type="button" class="link" onClick={() => getJson<AiEditJob>(`/api/ai-edit-jobs/${h.ai_edit_job_id}`).then(setJob).catch(setError)}>
                  “{h.instruction}”
                </button>{' '}
                <span class={`badge badge-${h.status}`}>{h.status}</span>
              </li>
            ))}
          </ul>
        </details>
      ) : null}
    </div>
  );
}

/** Plays the output's ranges one after another, skipping what the plan cuts. */
function playPlan(player: Player, o: PlanOutput) {
  const [first, ...rest] = o.ranges;
  if (!first) return;
  player.playRange(first.start_s, first.end_s, o.name || 'planned output', rest.map((r) => [r.start_s, r.end_s] as [number, number]));
}
