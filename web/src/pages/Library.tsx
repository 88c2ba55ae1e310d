import { useEffect, useMemo, useState } from 'preact/hooks';
import { getJson, mediaToken, mediaUrl, sendJson } from '../api';
import { Badge, Empty, ErrorBox, Progress } from '../components/common';
import { applyEvent, pipelineState } from '../pipeline';
import { videoHref } from '../router';
import type { Job, Video } from '../types';
import { fmtBytes, fmtTime, useJobEvents, useStore, videoTitle } from '../util';

interface Page {
  videos: Video[];
  next_cursor: string | null;
}

const STATUSES = ['', 'ready', 'pending', 'uploading', 'processing', 'failed'];
const TYPES = ['', 'video', 'audio', 'image'];

export function LibraryPage() {
  const [status, setStatus] = useState('');
  const [type, setType] = useState('');
  const [videos, setVideos] = useState<Video[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [jobs, setJobs] = useState<Job[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [posterRev, setPosterRev] = useState<Record<string, number>>({});
  const [n, setN] = useState(0);

  const query = (after?: string | null) => {
    const qs = new URLSearchParams({ limit: '48' });
    if (status) qs.set('status', status);
    if (type) qs.set('media_type', type);
    if (after) qs.set('cursor', after);
    return `/api/videos?${qs}`;
  };

  useEffect(() => {
    let stop = false;
    setLoading(true);
    Promise.all([getJson<Page>(query()), getJson<{ jobs: Job[] }>('/api/jobs?limit=200')])
      .then(([page, j]) => {
        if (stop) return;
        setVideos(page.videos);
        setCursor(page.next_cursor);
        setJobs(j.jobs);
        setError(null);
      })
      .catch((e) => !stop && setError(e))
      .finally(() => !stop && setLoading(false));
    return () => {
      stop = true;
    };
  }, [status, type, n]);

  useJobEvents((e) => {
    setJobs((js) => applyEvent(js, e));
    if (!e.video_id) return;
    if (e.kind === 'thumbnails' && e.status === 'succeeded') {
      setPosterRev((r) => ({ ...r, [e.video_id!]: (r[e.video_id!] || 0) + 1 }));
    }
    const known = videos.some((v) => v.video_id === e.video_id);
    if (!known || e.kind === 'import') {
      // A new upload or a URL import finishing: refresh the first page.
      getJson<Page>(query())
        .then((page) => {
          setVideos((old) => {
            const ids = new Set(page.videos.map((v) => v.video_id));
            return [...page.videos, ...old.filter((v) => !ids.has(v.video_id))];
          });
        })
        .catch(() => {});
    }
  });

  const jobsByVideo = useMemo(() => {
    const m = new Map<string, Job[]>();
    for (const j of jobs) {
      if (!j.video_id) continue;
      if (!m.has(j.video_id)) m.set(j.video_id, []);
      m.get(j.video_id)!.push(j);
    }
    return m;
  }, [jobs]);

  const more = async () => {
    try {
      const page = await getJson<Page>(query(cursor));
      setVideos((v) => [...v, ...page.videos]);
      setCursor(page.next_cursor);
    } catch (e) {
      setError(e);
    }
  };

  return (
    <section aria-labelledby="lib-title">
      <div class="page-head">
        <h1 id="lib-title">Library</h1>
        <div class="filters">
          <label>
            Status
            <select value={status} onChange={(e) => setStatus((e.target as HTMLSelectElement).value)}>
              {STATUSES.map((s) => (
                <option value={s}>{s || 'any'}</option>
              ))}
            </select>
          </label>
          <label>
            Type
            <select value={type} onChange={(e) => setType((e.target as HTMLSelectElement).value)}>
              {TYPES.map((s) => (
                <option value={s}>{s || 'any'}</option>
              ))}
            </select>
          </label>
          <button type="button" onClick={() => setN((x) => x + 1)}>
            Refresh
          </button>
          <a class="button primary" href="#/upload">
            Upload
          </a>
        </div>
      </div>
      <ErrorBox error={error} title="Could not load the library" />
      {!loading && !videos.length && !error ? (
        <Empty>
          Nothing here yet. <a href="#/upload">Upload a video</a> or import one from a URL.
        </Empty>
      ) : null}
      <ul class="grid" aria-busy={loading}>
        {videos.map((v) => (
          <VideoCard
            key={v.video_id}
            video={v}
            jobs={jobsByVideo.get(v.video_id) || []}
            posterRev={posterRev[v.video_id] || 0}
            onChanged={(nv) => setVideos((vs) => vs.map((x) => (x.video_id === nv.video_id ? nv : x)))}
            onDeleted={() => setVideos((vs) => vs.filter((x) => x.video_id !== v.video_id))}
            onJobs={(js) => setJobs((old) => [...js, ...old])}
          />
        ))}
      </ul>
      {cursor ? (
        <div class="row center">
          <button type="button" onClick={more}>
            Load more
          </button>
        </div>
      ) : null}
    </section>
  );
}

function VideoCard({
  video,
  jobs,
  posterRev,
  onChanged,
  onDeleted,
  onJobs,
}: {
  video: Video;
  jobs: Job[];
  posterRev: number;
  onChanged: (v: Video) => void;
  onDeleted: () => void;
  onJobs: (j: Job[]) => void;
}) {
  const token = useStore(mediaToken);
  const [posterFailed, setPosterFailed] = useState(false);
  const [renaming, setRenaming] = useState(false);
  const [title, setTitle] = useState(videoTitle(video));
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const p = pipelineState(jobs);
  const name = videoTitle(video);

  const [posterTry, setPosterTry] = useState(0);
  useEffect(() => setPosterFailed(false), [posterRev]);
  // A poster can be missing for a moment after an upload (the thumbnails job
  // runs then): try again a few times.
  useEffect(() => {
    if (!posterFailed || posterTry >= 4) return;
    const timer = setTimeout(() => {
      setPosterTry((n) => n + 1);
      setPosterFailed(false);
    }, 3000);
    return () => clearTimeout(timer);
  }, [posterFailed]);

  const rename = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    try {
      onChanged(await sendJson<Video>('PATCH', `/api/videos/${video.video_id}`, { title: title.trim() }));
      setRenaming(false);
      setError(null);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const remove = async () => {
    setBusy(true);
    try {
      await sendJson('DELETE', `/api/videos/${video.video_id}`);
      onDeleted();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  const process = async () => {
    setBusy(true);
    try {
      const r = await sendJson<{ stages: { stage: string; job_id?: string }[] }>('POST', `/api/videos/${video.video_id}/process/all`);
      onJobs(
        r.stages
          .filter((s) => s.job_id)
          .map((s) => ({
            job_id: s.job_id!,
            kind: s.stage,
            video_id: video.video_id,
            status: 'queued',
            progress: 0,
            attempts: 0,
            error: null,
            created_at: new Date().toISOString(),
            started_at: null,
            finished_at: null,
          })),
      );
      setError(null);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const rev = posterRev * 10 + posterTry;
  const poster = `/api/videos/${video.video_id}/thumbnail${rev ? `?v=${rev}` : ''}`;
  return (
    <li class="card" data-video-id={video.video_id}>
      <a class="poster" href={videoHref(video.video_id)} tabIndex={-1} aria-hidden="true">
        {video.media_type !== 'audio' && !posterFailed && token.ready ? (
          <img src={mediaUrl(poster, token.token)} alt="" loading="lazy" onError={() => setPosterFailed(true)} />
        ) : (
          <span class="poster-placeholder">{video.media_type === 'audio' ? '♪' : '▶'}</span>
        )}
        {video.duration_s ? <span class="duration">{fmtTime(video.duration_s)}</span> : null}
      </a>
      <div class="card-body">
        {renaming ? (
          <form class="rename" onSubmit={rename}>
            <label class="sr-only" for={`title-${video.video_id}`}>
              New title
            </label>
            <input
              id={`title-${video.video_id}`}
              value={title}
              maxLength={500}
              onInput={(e) => setTitle((e.target as HTMLInputElement).value)}
              autoFocus
            />
            <button type="submit" class="primary" disabled={busy || !title.trim()}>
              Save
            </button>
            <button type="button" onClick={() => setRenaming(false)}>
              Cancel
            </button>
          </form>
        ) : (
          <h2 class="card-title">
            <a href={videoHref(video.video_id)} title={name}>
              {name}
            </a>
          </h2>
        )}
        <div class="meta">
          <Badge kind={video.status}>{video.status}</Badge>
          {p.state ? (
            <Badge kind={p.state}>
              <span class="pipeline-state">{p.state}</span>
              {p.state === 'processing' ? ` ${Math.round(p.progress * 100)}%` : ''}
            </Badge>
          ) : null}
          <span>{video.media_type || 'media'}</span>
          {video.width && video.height ? (
            <span>
              {video.width}×{video.height}
            </span>
          ) : null}
          <span>{fmtBytes(video.size_bytes)}</span>
        </div>
        {p.state === 'processing' ? <Progress value={p.progress} label={`Processing ${name}`} /> : null}
        {p.detail && p.state !== 'processed' ? <p class="muted small">{p.detail}</p> : null}
        {video.error ? <p class="error small">{video.error}</p> : null}
        <ErrorBox error={error} />
        {confirmDelete ? (
          <div class="confirm" role="group" aria-label={`Confirm deleting ${name}`}>
            <span>Delete “{name}” and everything derived from it?</span>
            <button type="button" class="danger" onClick={remove} disabled={busy}>
              Delete
            </button>
            <button type="button" onClick={() => setConfirmDelete(false)} autoFocus>
              Keep
            </button>
          </div>
        ) : (
          <div class="actions">
            {video.status === 'ready' && p.state !== 'processing' && p.state !== 'processed' ? (
              <button type="button" class="small" onClick={process} disabled={busy}>
                Process
              </button>
            ) : null}
            <button
              type="button"
              class="small"
              onClick={() => {
                setTitle(name);
                setRenaming(true);
              }}
            >
              Rename
            </button>
            <button type="button" class="small danger-outline" onClick={() => setConfirmDelete(true)}>
              Delete
            </button>
          </div>
        )}
      </div>
    </li>
  );
}
