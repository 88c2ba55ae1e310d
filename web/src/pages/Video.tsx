import { useEffect, useMemo, useState } from 'preact/hooks';
import { mediaToken, mediaUrl } from '../api';
import { AiEditPanel } from '../components/AiEdit';
import { ClipsPanel } from '../components/Clips';
import { Badge, Empty, ErrorBox } from '../components/common';
import { ProcessPanel } from '../components/Process';
import { RetentionPanel } from '../components/Retention';
import { Timeline, useSpriteCues } from '../components/Timeline';
import { TranscriptPanel } from '../components/Transcript';
import { Player } from '../player';
import type { Asset, Clip, Frame, Retention, Scene, Scenes, Transcript, Video } from '../types';
import { fmtBytes, fmtTime, isNotFound, useJobEvents, useJson, useStore, videoTitle, type Loaded } from '../util';

const TABS = [
  ['clips', 'Clips'],
  ['ai', 'AI edit'],
  ['scenes', 'Scenes'],
  ['frames', 'Frames'],
  ['retention', 'Retention'],
  ['process', 'Process & logs'],
] as const;
type Tab = (typeof TABS)[number][0];

export function VideoPage({ id, t }: { id: string; t: number }) {
  const token = useStore(mediaToken);
  const player = useMemo(() => new Player(), [id]);
  const video = useJson<Video>(`/api/videos/${encodeURIComponent(id)}`);
  const ok = !!video.data;
  const assets = useJson<{ assets: Asset[] }>(ok ? `/api/videos/${id}/assets` : null);
  const transcript = useJson<Transcript>(ok ? `/api/videos/${id}/transcription` : null);
  const scenes = useJson<Scenes>(ok ? `/api/videos/${id}/scenes` : null);
  const frames = useJson<{ frames: Frame[] }>(ok ? `/api/videos/${id}/frames` : null);
  const clips = useJson<{ clips: Clip[] }>(ok ? `/api/videos/${id}/clips` : null);
  const retention = useJson<Retention>(ok ? `/api/videos/${id}/retention` : null);
  const [tab, setTab] = useState<Tab>('clips');

  useJobEvents((e) => {
    if (e.status !== 'succeeded') return;
    const reload: Record<string, { reload: () => void }> = {
      thumbnails: assets,
      transcription: transcript,
      scenes,
      frames,
      clips,
      retention,
      import: video,
    };
    reload[e.kind]?.reload();
    if (e.kind === 'retention') clips.reload();
  }, id);

  useEffect(() => {
    if (Number.isFinite(t)) player.seek(t);
  }, [t, player]);

  const vttAsset = assets.data?.assets.find((a) => a.kind === 'vtt');
  const cues = useSpriteCues(vttAsset ? vttAsset.url : null);

  if (video.error) {
    return (
      <section>
        <h1>{isNotFound(video.error) ? 'Video not found' : 'Could not load the video'}</h1>
        <ErrorBox error={video.error} />
        <p>
          <a href="#/">Back to the library</a>
        </p>
      </section>
    );
  }
  if (!video.data) return <p class="muted">Loading…</p>;
  const v = video.data;
  const duration = v.duration_s || 0;
  const sceneList: Scene[] = scenes.data?.scenes || [];
  const isAudio = v.media_type === 'audio';
  const isImage = v.media_type === 'image';
  const src = mediaUrl(`/api/videos/${id}/stream`, token.token);
  const poster = v.media_type === 'video' ? mediaUrl(`/api/videos/${id}/thumbnail`, token.token) : undefined;

  return (
    <section aria-labelledby="video-title">
      <div class="page-head">
        <h1 id="video-title" class="video-title">
          {videoTitle(v)}
        </h1>
        <div class="meta">
          <Badge kind={v.status}>{v.status}</Badge>
          <span>{fmtTime(v.duration_s)}</span>
          {v.width ? (
            <span>
              {v.width}×{v.height}
            </span>
          ) : null}
          {v.fps ? <span>{Math.round(v.fps * 100) / 100} fps</span> : null}
          <span>{fmtBytes(v.size_bytes)}</span>
        </div>
      </div>
      {v.error ? <div class="error">{v.error}</div> : null}
      <div class="video-layout">
        <div class="player-col">
          {!token.ready ? (
            <div class="player-box" />
          ) : isImage ? (
            <img class="player-box" src={src} alt={videoTitle(v)} />
          ) : isAudio ? (
            <audio class="player-audio" ref={player.ref} src={src} controls preload="metadata" />
          ) : (
            <video class="player-box" ref={player.ref} src={src} poster={poster} controls preload="metadata" playsInline />
          )}
          {!isImage ? <Timeline duration={duration} player={player} cues={cues} scenes={sceneList} retention={retention.data} /> : null}
          <RangeBanner player={player} />
          {sceneList.length ? <SceneStrip scenes={sceneList} player={player} /> : null}
        </div>
        <aside class="transcript-col" aria-label="Transcript">
          <h2 class="h3">Transcript</h2>
          {transcript.data ? (
            <TranscriptPanel videoId={id} transcript={transcript.data} player={player} />
          ) : isNotFound(transcript.error) ? (
            <Empty>No transcript yet. Run “transcription” in Process &amp; logs.</Empty>
          ) : (
            <ErrorBox error={transcript.error} />
          )}
        </aside>
      </div>

      <div class="tabs" role="tablist" aria-label="Video tools">
        {TABS.map(([k, label]) => (
          <button
            type="button"
            role="tab"
            id={`tab-${k}`}
            aria-selected={tab === k}
            aria-controls={`panel-${k}`}
            class={tab === k ? 'active' : ''}
            onClick={() => setTab(k)}
          >
            {label}
          </button>
        ))}
      </div>
      <div class="tab-panel" role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {tab === 'clips' ? <ClipsPanel video={v} clips={clips} player={player} /> : null}
        {tab === 'ai' ? <AiEditPanel video={v} player={player} /> : null}
        {tab === 'scenes' ? <ScenesList scenes={scenes} player={player} /> : null}
        {tab === 'frames' ? <FramesPanel frames={frames} player={player} /> : null}
        {tab === 'retention' ? <RetentionPanel video={v} retention={retention} player={player} /> : null}
        {tab === 'process' ? <ProcessPanel video={v} /> : null}
      </div>
    </section>
  );
}

function RangeBanner({ player }: { player: Player }) {
  const r = useStore(player.range);
  if (!r) return null;
  return (
    <div class="range-banner" role="status">
      Previewing {r.label}: {fmtTime(r.start, true)} – {fmtTime(r.end, true)}
      {r.rest.length ? ` (${r.rest.length} more range${r.rest.length > 1 ? 's' : ''})` : ''}
      <button type="button" class="small" onClick={() => player.stopRange()}>
        Stop
      </button>
    </div>
  );
}

function SceneStrip({ scenes, player }: { scenes: Scene[]; player: Player }) {
  const token = useStore(mediaToken);
  return (
    <div class="scene-strip" aria-label="Scenes">
      {scenes.map((s) => (
        <button type="button" class="scene" data-start={s.start_s} onClick={() => player.seek(s.start_s)} aria-label={`Scene ${s.scene_no} (${s.transition}) at ${fmtTime(s.start_s)}`}>
          {s.keyframe_url ? <img src={mediaUrl(s.keyframe_url, token.token)} alt="" loading="lazy" /> : <span class="kf-missing" />}
          <span class="scene-label">
            <span>{fmtTime(s.start_s)}</span>
            <span class={`tr tr-${s.transition}`}>{s.transition.replace('_', ' ')}</span>
          </span>
        </button>
      ))}
    </div>
  );
}

function ScenesList({ scenes, player }: { scenes: Loaded<Scenes>; player: Player }) {
  const token = useStore(mediaToken);
  if (isNotFound(scenes.error)) return <Empty>No scenes yet. Run “scenes” in Process &amp; logs.</Empty>;
  if (scenes.error) return <ErrorBox error={scenes.error} />;
  if (!scenes.data) return <p class="muted">Loading…</p>;
  return (
    <>
      <ul class="cards-list">
        {scenes.data.scenes.map((s) => (
          <li class="row-card">
            <button type="button" class="thumb-button" onClick={() => player.seek(s.start_s)} aria-label={`Play scene ${s.scene_no}`}>
              {s.keyframe_url ? <img src={mediaUrl(s.keyframe_url, token.token)} alt="" loading="lazy" /> : null}
            </button>
            <div>
              <strong>Scene {s.scene_no}</strong> <span class="muted">{fmtTime(s.start_s, true)} – {fmtTime(s.end_s, true)}</span>{' '}
              <span class={`tr tr-${s.transition}`}>{s.transition.replace('_', ' ')}</span>
              {s.score ? <span class="muted small"> score {s.score.toFixed(1)}</span> : null}
              {s.description ? <p>{s.description}</p> : null}
            </div>
          </li>
        ))}
      </ul>
      {scenes.data.transitions.filter((x) => x.type !== 'cut').length ? (
        <p class="muted small">
          Gradual transitions:{' '}
          {scenes.data.transitions
            .filter((x) => x.type !== 'cut')
            .map((x) => `${x.type} ${fmtTime(x.start_s, true)}–${fmtTime(x.end_s, true)}`)
            .join(', ')}
        </p>
      ) : null}
    </>
  );
}

function FramesPanel({ frames, player }: { frames: Loaded<{ frames: Frame[] }>; player: Player }) {
  const token = useStore(mediaToken);
  const [textOnly, setTextOnly] = useState(false);
  if (isNotFound(frames.error)) return <Empty>No frames yet. Run “frames” in Process &amp; logs.</Empty>;
  if (frames.error) return <ErrorBox error={frames.error} />;
  if (!frames.data) return <p class="muted">Loading…</p>;
  const list = frames.data.frames.filter((f) => !textOnly || f.ocr_text || f.description);
  return (
    <>
      <label class="inline small">
        <input type="checkbox" checked={textOnly} onChange={(e) => setTextOnly((e.target as HTMLInputElement).checked)} /> Only frames with text or a
        description
      </label>
      {!list.length ? <Empty>No frames match.</Empty> : null}
      <ul class="frame-grid">
        {list.map((f) => (
          <li class="frame">
            <button type="button" class="thumb-button" onClick={() => player.seek(f.ts_s)} aria-label={`Play from ${fmtTime(f.ts_s)}`}>
              <img src={mediaUrl(f.image_url, token.token)} alt="" loading="lazy" />
            </button>
            <div class="small">
              <strong>{fmtTime(f.ts_s, true)}</strong>
              {f.features?.faces?.count ? <span class="muted"> · {f.features.faces.count} face(s)</span> : null}
              {f.ocr_text ? (
                <p>
                  <span class="label">Text:</span> {f.ocr_text}
                </p>
              ) : null}
              {f.description ? (
                <p>
                  <span class="label">Shows:</span> {f.description}
                </p>
              ) : null}
            </div>
          </li>
        ))}
      </ul>
    </>
  );
}
