import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { mediaToken, mediaUrl } from '../api';
import type { Player } from '../player';
import type { Transcript } from '../types';
import { fmtTime, useStore } from '../util';
import { Empty } from './common';

interface FlatWord {
  i: number;
  seg: number;
  word: string;
  start_s: number;
  end_s: number;
}

/** The transcript, synced to playback: the spoken word is highlighted, a click on a word seeks to it. */
export function TranscriptPanel({ videoId, transcript, player }: { videoId: string; transcript: Transcript; player: Player }) {
  const token = useStore(mediaToken);
  const box = useRef<HTMLDivElement>(null);
  const [query, setQuery] = useState('');
  const [follow, setFollow] = useState(true);
  const [matchIdx, setMatchIdx] = useState(0);

  const words = useMemo(() => {
    const out: FlatWord[] = [];
    transcript.segments.forEach((s, seg) => {
      for (const w of s.words) out.push({ i: out.length, seg, word: w.word, start_s: w.start_s, end_s: w.end_s });
    });
    return out;
  }, [transcript]);

  const bySeg = useMemo(() => {
    const out: FlatWord[][] = transcript.segments.map(() => []);
    for (const w of words) out[w.seg].push(w);
    return out;
  }, [words]);

  const matches = useMemo(() => {
    const q = query.trim().toLowerCase();
    if (!q) return [] as number[];
    const parts = q.split(/\s+/);
    const out: number[] = [];
    for (let i = 0; i + parts.length <= words.length; i++) {
      let ok = true;
      for (let k = 0; k < parts.length && ok; k++) {
        const w = words[i + k].word.toLowerCase();
        ok = k === parts.length - 1 ? w.startsWith(parts[k]) : w === parts[k];
      }
      if (ok) out.push(i);
    }
    return out;
  }, [query, words]);
  const matchSet = useMemo(() => {
    const n = query.trim().split(/\s+/).length;
    const s = new Set<number>();
    for (const m of matches) for (let k = 0; k < n; k++) s.add(m + k);
    return s;
  }, [matches]);

  useEffect(() => setMatchIdx(0), [query]);

  // Highlight the spoken word without re-rendering every word.
  useEffect(() => {
    let current = -1;
    const update = () => {
      const t = player.time.get();
      // Binary search: the last word starting at or before t.
      let lo = 0;
      let hi = words.length - 1;
      let found = -1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (words[mid].start_s <= t + 0.01) {
          found = mid;
          lo = mid + 1;
        } else hi = mid - 1;
      }
      if (found >= 0 && t > words[found].end_s + 0.6) found = -1;
      if (found === current) return;
      const root = box.current;
      if (!root) return;
      root.querySelector('.word.current')?.classList.remove('current');
      current = found;
      if (found < 0) return;
      const el = root.querySelector<HTMLElement>(`[data-i="${found}"]`);
      if (!el) return;
      el.classList.add('current');
      if (followRef.current) {
        const top = el.offsetTop - root.offsetTop;
        if (top < root.scrollTop + 20 || top > root.scrollTop + root.clientHeight - 40) {
          root.scrollTo({ top: Math.max(0, top - root.clientHeight / 3), behavior: 'smooth' });
        }
      }
    };
    update();
    return player.time.subscribe(update);
  }, [words, player]);
  const followRef = useRef(follow);
  followRef.current = follow;

  const jump = (k: number) => {
    if (!matches.length) return;
    const idx = (k + matches.length) % matches.length;
    setMatchIdx(idx);
    const w = words[matches[idx]];
    player.seek(w.start_s);
    box.current?.querySelector<HTMLElement>(`[data-i="${w.i}"]`)?.scrollIntoView({ block: 'center' });
  };

  const dl = (fmt: string) => mediaUrl(`/api/videos/${videoId}/transcription?format=${fmt}`, token.token);

  return (
    <div class="transcript">
      <div class="transcript-tools">
        <label for="transcript-q" class="sr-only">
          Search the transcript
        </label>
        <input
          id="transcript-q"
          type="search"
          placeholder="Search the transcript"
          value={query}
          onInput={(e) => setQuery((e.target as HTMLInputElement).value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault();
              jump(e.shiftKey ? matchIdx - 1 : matches.length && words[matches[matchIdx]].start_s === player.time.get() ? matchIdx + 1 : matchIdx);
            }
          }}
        />
        {query.trim() ? (
          <span class="match-count" aria-live="polite">
            {matches.length ? `${matchIdx + 1} of ${matches.length}` : 'no match'}
          </span>
        ) : null}
        <button type="button" class="small" disabled={!matches.length} onClick={() => jump(matchIdx - 1)} aria-label="Previous match">
          ↑
        </button>
        <button type="button" class="small" disabled={!matches.length} onClick={() => jump(matchIdx + 1)} aria-label="Next match">
          ↓
        </button>
      </div>
      <div class="transcript-sub">
        <label class="inline small">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow((e.target as HTMLInputElement).checked)} /> Follow playback
        </label>
        <span class="downloads small">
          Download:{' '}
          {['srt', 'vtt', 'txt'].map((f) => (
            <a href={dl(f)} download={`${videoId}.${f}`}>
              {f.toUpperCase()}
            </a>
          ))}
        </span>
      </div>
      {transcript.note ? <p class="muted small">{transcript.note}</p> : null}
      <div class="transcript-body" ref={box}>
        {!words.length ? <Empty>The transcript has no words (no speech found).</Empty> : null}
        {transcript.segments.map((s, si) => (
          <p class="segment" key={si}>
            <button type="button" class="ts" onClick={() => player.seek(s.start_s)} aria-label={`Play from ${fmtTime(s.start_s)}`}>
              {fmtTime(s.start_s)}
            </button>{' '}
            {bySeg[si].map((w) => (
                <>
                  <span
                    class={`word${matchSet.has(w.i) ? ' match' : ''}`}
                    data-i={w.i}
                    data-start={w.start_s}
                    onClick={() => player.seek(w.start_s)}
                    title={fmtTime(w.start_s, true)}
                  >
                    {w.word}
                  </span>{' '}
                </>
              ))}
          </p>
        ))}
      </div>
    </div>
  );
}
