import { useEffect, useState } from 'preact/hooks';
import { getJson } from '../api';
import { Empty, ErrorBox } from '../components/common';
import { navigate, videoHref } from '../router';
import type { SearchHit, Video } from '../types';
import { fmtTime, videoTitle } from '../util';

export function SearchPage({ q }: { q: string }) {
  const [text, setText] = useState(q);
  const [hits, setHits] = useState<SearchHit[] | null>(null);
  const [titles, setTitles] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => setText(q), [q]);
  useEffect(() => {
    if (!q.trim()) {
      setHits(null);
      return;
    }
    let stop = false;
    setBusy(true);
    getJson<{ hits: SearchHit[] }>(`/api/search?${new URLSearchParams({ q, limit: '100' })}`)
      .then(async (r) => {
        if (stop) return;
        setHits(r.hits);
        setError(null);
        const missing = [...new Set(r.hits.map((h) => h.video_id))].filter((id) => !(id in titles));
        const got = await Promise.all(
          missing.map((id) =>
            getJson<Video>(`/api/videos/${id}`)
              .then((v) => [id, videoTitle(v)] as const)
              .catch(() => [id, id] as const),
          ),
        );
        if (!stop && got.length) setTitles((t) => ({ ...t, ...Object.fromEntries(got) }));
      })
      .catch((e) => !stop && setError(e))
      .finally(() => !stop && setBusy(false));
    return () => {
      stop = true;
    };
  }, [q]);

  const groups = new Map<string, SearchHit[]>();
  for (const h of hits || []) {
    if (!groups.has(h.video_id)) groups.set(h.video_id, []);
    groups.get(h.video_id)!.push(h);
  }

  return (
    <section aria-labelledby="search-title">
      <div class="page-head">
        <h1 id="search-title">Search</h1>
      </div>
      <form
        class="search-form"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          navigate('/search', { q: text.trim() });
        }}
      >
        <label for="search-q" class="sr-only">
          Search every transcript, scene description and on-screen text
        </label>
        <input
          id="search-q"
          type="search"
          placeholder="Words spoken, shown or described…"
          value={text}
          onInput={(e) => setText((e.target as HTMLInputElement).value)}
        />
        <button type="submit" class="primary">
          Search
        </button>
      </form>
      <ErrorBox error={error} title="Search failed" />
      {busy ? <p class="muted">Searching…</p> : null}
      {hits && !hits.length && !busy ? <Empty>No hits for “{q}”.</Empty> : null}
      {[...groups.entries()].map(([vid, hs]) => (
        <div class="panel search-group" key={vid}>
          <h2 class="h3">
            <a href={videoHref(vid)}>{titles[vid] || vid}</a>
          </h2>
          <ul class="hits">
            {hs.map((h) => (
              <li>
                <a class="hit" href={videoHref(vid, h.start_s)}>
                  <span class="time">{fmtTime(h.start_s, true)}</span>
                  <span class={`badge badge-${h.source}`}>{h.source}</span>
                  <span class="hit-text">{h.snippet ? <Snippet text={h.snippet} /> : h.text}</span>
                </a>
              </li>
            ))}
          </ul>
        </div>
      ))}
    </section>
  );
}

/** The search index marks matches as [word]; they become <mark>. */
function Snippet({ text }: { text: string }) {
  const parts = text.split(/(\[[^\]]*\])/);
  return (
    <>
      {parts.map((p) => (p.startsWith('[') && p.endsWith(']') ? <mark>{p.slice(1, -1)}</mark> : p))}
    </>
  );
}
