import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { apiFetch, mediaToken, mediaUrl } from '../api';
import type { Player } from '../player';
import type { DropPoint, Retention, Scene } from '../types';
import { fmtTime, useStore } from '../util';

export function lostPct(x: number): string {
  return x >= 0.01 ? `${Math.round(x * 100)}%` : `${(x * 100).toFixed(1)}%`;
}

interface Cue {
  start: number;
  end: number;
  url: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

function parseTime(s: string): number {
  const parts = s.trim().split(':').map(Number);
  return parts.reduce((acc, p) => acc * 60 + p, 0);
}

/** Sprite cues from the thumbnails stage's WebVTT (url#xywh=x,y,w,h). */
export function parseSpriteVtt(text: string): Cue[] {
  const cues: Cue[] = [];
  const blocks = text.replace(/\r/g, '').split(/\n\n+/);
  for (const b of blocks) {
    const lines = b.split('\n').filter(Boolean);
    const ti = lines.findIndex((l) => l.includes('-->'));
    if (ti < 0 || ti + 1 >= lines.length) continue;
    const [a, z] = lines[ti].split('-->');
    const target = lines[ti + 1].trim();
    const m = target.match(/^(.*)#xywh=(\d+),(\d+),(\d+),(\d+)$/);
    if (!m) continue;
    cues.push({ start: parseTime(a), end: parseTime(z.trim().split(/\s+/)[0]), url: m[1], x: +m[2], y: +m[3], w: +m[4], h: +m[5] });
  }
  return cues;
}

export function useSpriteCues(vttUrl: string | null): Cue[] {
  const [cues, setCues] = useState<Cue[]>([]);
  useEffect(() => {
    if (!vttUrl) return;
    let stop = false;
    apiFetch(vttUrl)
      .then((r) => r.text())
      .then((t) => !stop && setCues(parseSpriteVtt(t)))
      .catch(() => {});
    return () => {
      stop = true;
    };
  }, [vttUrl]);
  return cues;
}

/**
 * A scrub bar under the player: hover shows the sprite thumbnail at that
 * time, scene cuts are ticks, the predicted (and imported) retention curve is
 * drawn behind, and drop points are buttons that seek.
 */
export function Timeline({
  duration,
  player,
  cues,
  scenes,
  retention,
}: {
  duration: number;
  player: Player;
  cues: Cue[];
  scenes: Scene[];
  retention: Retention | null;
}) {
  const token = useStore(mediaToken);
  const t = useStore(player.time);
  const range = useStore(player.range);
  const bar = useRef<HTMLDivElement>(null);
  const [hover, setHover] = useState<{ x: number; t: number } | null>(null);
  const d = duration > 0 ? duration : 1;

  const timeAt = (clientX: number) => {
    const r = bar.current!.getBoundingClientRect();
    const f = Math.min(1, Math.max(0, (clientX - r.left) / r.width));
    return { x: clientX - r.left, t: f * d };
  };
  const cue = hover ? cues.find((c) => hover.t >= c.start && hover.t < c.end) || cues[cues.length - 1] : undefined;

  const pred = retention?.predicted;
  const imp = retention?.imported;
  // The y axis spans the curves' own range (rounded down to a tenth), so a
  // shallow curve still shows its shape.
  const lowest = Math.min(1, ...(pred?.curve || []), ...(imp?.curve || []));
  const floor = Math.max(0, Math.floor((lowest - 0.02) * 10) / 10);
  const curve = (c: number[] | undefined) => {
    if (!c || !c.length) return '';
    return c.map((v, i) => `${((Math.min(i, d) / d) * 100).toFixed(2)},${(38 - ((v - floor) / (1 - floor || 1)) * 34).toFixed(2)}`).join(' ');
  };
  const drops: DropPoint[] = pred?.drop_points || [];

  const onKey = (e: KeyboardEvent) => {
    const step = e.shiftKey ? 10 : 5;
    if (e.key === 'ArrowRight') player.seek(Math.min(d, t + step));
    else if (e.key === 'ArrowLeft') player.seek(Math.max(0, t - step));
    else if (e.key === 'Home') player.seek(0);
    else if (e.key === 'End') player.seek(d);
    else return;
    e.preventDefault();
  };

  const cuts = useMemo(() => scenes.filter((s) => s.scene_no > 1), [scenes]);

  return (
    <div class="timeline">
      <div
        class="timeline-bar"
        ref={bar}
        role="slider"
        tabIndex={0}
        aria-label="Seek"
        aria-valuemin={0}
        aria-valuemax={Math.round(d)}
        aria-valuenow={Math.round(t)}
        aria-valuetext={fmtTime(t)}
        onKeyDown={onKey}
        onMouseMove={(e) => setHover(timeAt(e.clientX))}
        onMouseLeave={() => setHover(null)}
        onClick={(e) => player.seek(timeAt(e.clientX).t)}
      >
        {pred || imp ? <span class="axis">{Math.round(floor * 100)}%–100%</span> : null}
        <svg class="curve" viewBox="0 0 100 40" preserveAspectRatio="none" aria-hidden="true">
          {pred ? <polyline points={curve(pred.curve)} class="pred" vector-effect="non-scaling-stroke" /> : null}
          {imp ? <polyline points={curve(imp.curve)} class="imp" vector-effect="non-scaling-stroke" /> : null}
        </svg>
        {range ? <div class="range" style={{ left: `${(range.start / d) * 100}%`, width: `${((range.end - range.start) / d) * 100}%` }} /> : null}
        {cuts.map((s) => (
          <div class={`cut cut-${s.transition}`} style={{ left: `${(s.start_s / d) * 100}%` }} title={`${s.transition} at ${fmtTime(s.start_s, true)}`} />
        ))}
        {drops.map((dp) => (
          <div class="drop-mark" style={{ left: `${(dp.t_s / d) * 100}%` }} title={dp.reasons.join('; ')} />
        ))}
        <div class="played" style={{ width: `${(Math.min(t, d) / d) * 100}%` }} />
        <div class="playhead" style={{ left: `${(Math.min(t, d) / d) * 100}%` }} />
        {hover ? (
          <div class="preview" style={{ left: `${Math.max(60, Math.min(hover.x, (bar.current?.clientWidth || 0) - 60))}px` }}>
            {cue ? (
              <div
                class="sprite"
                style={{
                  width: `${cue.w}px`,
                  height: `${cue.h}px`,
                  backgroundImage: `url("${mediaUrl(cue.url, token.token)}")`,
                  backgroundPosition: `-${cue.x}px -${cue.y}px`,
                }}
              />
            ) : null}
            <span>{fmtTime(hover.t, true)}</span>
          </div>
        ) : null}
      </div>
      {drops.length ? (
        <div class="drops" aria-label="Predicted drop points">
          <span class="muted small">Drop points:</span>
          {drops.map((dp) => (
            <button type="button" class="drop" data-t={dp.t_s} onClick={() => player.seek(dp.t_s)} title={dp.reasons.join('; ')}>
              {fmtTime(dp.t_s)} <span class="muted">−{lostPct(dp.lost)}</span>
            </button>
          ))}
        </div>
      ) : null}
    </div>
  );
}
