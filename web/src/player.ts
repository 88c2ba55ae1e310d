// The page's player: one <video>/<audio> element, its time as a store, and
// range playback that stops exactly at the end of a clip.
import { Store } from './api';

export class Player {
  el: HTMLMediaElement | null = null;
  time = new Store<number>(0);
  /** The range being previewed, if any. */
  range = new Store<{ start: number; end: number; label: string; rest: [number, number][] } | null>(null);
  private raf = 0;
  private pendingSeek: number | null = null;

  private wired = new WeakSet<HTMLMediaElement>();
  /** A stable ref callback for the media element. */
  ref = (el: HTMLMediaElement | null) => this.attach(el);

  attach(el: HTMLMediaElement | null) {
    if (this.el === el) return;
    this.el = el;
    if (!el) {
      cancelAnimationFrame(this.raf);
      return;
    }
    if (this.wired.has(el)) return;
    this.wired.add(el);
    const tick = () => {
      this.update();
      if (!el.paused) this.raf = requestAnimationFrame(tick);
    };
    el.addEventListener('play', () => {
      cancelAnimationFrame(this.raf);
      this.raf = requestAnimationFrame(tick);
    });
    el.addEventListener('timeupdate', () => this.update());
    el.addEventListener('seeked', () => this.update());
    const applyPending = () => {
      if (this.pendingSeek !== null) {
        el.currentTime = this.pendingSeek;
        this.pendingSeek = null;
      }
    };
    el.addEventListener('loadedmetadata', applyPending);
    if (el.readyState >= 1) applyPending();
  }

  private update() {
    const el = this.el;
    if (!el) return;
    const r = this.range.get();
    if (r && !el.paused && el.currentTime >= r.end) {
      const next = r.rest[0];
      if (next) {
        // The next range of a plan: jump over what it leaves out.
        el.currentTime = next[0];
        this.range.set({ start: next[0], end: next[1], label: r.label, rest: r.rest.slice(1) });
      } else {
        el.pause();
        el.currentTime = r.end;
        this.range.set(null);
      }
    }
    this.time.set(el.currentTime);
  }

  seek(t: number, play = false) {
    const el = this.el;
    this.range.set(null);
    if (!el || el.readyState < 1) {
      this.pendingSeek = t;
    } else {
      el.currentTime = Math.max(0, t);
    }
    this.time.set(t);
    if (play && el) void el.play().catch(() => {});
  }

  /** Plays [start, end) and stops there; `rest` are ranges played after it, in order. */
  playRange(start: number, end: number, label: string, rest: [number, number][] = []) {
    const el = this.el;
    if (!el) return;
    el.currentTime = start;
    this.time.set(start);
    this.range.set({ start, end, label, rest });
    void el.play().catch(() => {});
  }

  stopRange() {
    this.el?.pause();
    this.range.set(null);
  }
}
