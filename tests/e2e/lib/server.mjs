// Helpers for the end-to-end tests: run the real cutroom binary on a free
// loopback port with a fresh data dir, and make the test media once per run.
//
//   CUTROOM_BINARY          the binary to run (default build/release/cutroom in this checkout)
//   CUTROOM_TEST_MEDIA_DIR  where generated media is cached (default $TMPDIR/cutroom-test-media)
//   CUTROOM_E2E_START_TIMEOUT_MS  how long to wait for /healthz (default 20000; raise it for sanitizer builds)
//   CUTROOM_E2E_KEEP=1      keep each server's temp dir (data dir and log) after the test
import { spawn, execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const CUTROOM_BINARY = process.env.CUTROOM_BINARY || path.join(REPO_ROOT, 'build/release/cutroom');
export const TEST_MEDIA_DIR = process.env.CUTROOM_TEST_MEDIA_DIR || path.join(os.tmpdir(), 'cutroom-test-media');
const START_TIMEOUT_MS = Number(process.env.CUTROOM_E2E_START_TIMEOUT_MS || 20000);
const STOP_TIMEOUT_MS = 10000;
const LOG_TAIL_BYTES = 64 * 1024;

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// The server gets the environment without CUTROOM_* variables, so a
// developer's own settings (database url, data dir, ...) never leak into a test.
function serverEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('CUTROOM_')) env[k] = v;
  }
  return { ...env, ...extra };
}

/**
 * One cutroom server process. `start()` spawns it and waits for /healthz;
 * `stop()` sends SIGTERM (then SIGKILL after a timeout); `kill()` sends SIGKILL;
 * `restart()` starts it again on the same port and data dir; `cleanup()` stops
 * it and removes its temp dir.
 */
export class CutroomServer {
  constructor({ binary = CUTROOM_BINARY, port, rootDir, env = {}, extraArgs = [] }) {
    this.binary = binary;
    this.port = port;
    this.rootDir = rootDir; // holds data/ and is the server's cwd (so no stray ./cutroom.toml is read)
    this.dataDir = path.join(rootDir, 'data');
    this.env = env;
    this.extraArgs = extraArgs;
    this.baseUrl = `http://127.0.0.1:${port}`;
    this.endpoint = `${this.baseUrl}/api/uploads/`;
    this.proc = null;
    this.exited = null; // promise of {code, signal} for the current process
    this.starts = 0;
    this._log = '';
  }

  /** Starts a server on a free port with a fresh temp data dir. */
  static async start(options = {}) {
    if (!existsSync(options.binary || CUTROOM_BINARY)) {
      throw new Error(
        `cutroom binary not found at ${options.binary || CUTROOM_BINARY}; build it or set CUTROOM_BINARY`,
      );
    }
    const rootDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'cutroom-e2e-'));
    const port = options.port ?? (await freePort());
    const server = new CutroomServer({ ...options, port, rootDir });
    try {
      await server._spawn();
    } catch (err) {
      await server.cleanup();
      throw err;
    }
    return server;
  }

  get pid() {
    return this.proc?.pid;
  }

  get running() {
    return this.proc !== null && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** The last LOG_TAIL_BYTES of the server's stdout+stderr, over all its starts. */
  logs() {
    return this._log;
  }

  _append(chunk) {
    this._log += chunk.toString('utf8');
    if (this._log.length > LOG_TAIL_BYTES) this._log = this._log.slice(-LOG_TAIL_BYTES);
  }

  async _spawn() {
    await fsp.mkdir(this.dataDir, { recursive: true });
    const args = [
      'serve',
      '--listen', `127.0.0.1:${this.port}`,
      '--data-dir', this.dataDir,
      '--log-format', 'json',
      ...this.extraArgs,
    ];
    this.starts += 1;
    this._append(`--- start #${this.starts}: ${this.binary} ${args.join(' ')}\n`);
    const proc = spawn(this.binary, args, {
      cwd: this.rootDir,
      env: serverEnv(this.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = proc;
    proc.stdout.on('data', (c) => this._append(c));
    proc.stderr.on('data', (c) => this._append(c));
    this.exited = new Promise((resolve) => {
      proc.on('exit', (code, signal) => {
        this._append(`--- exited: code=${code} signal=${signal}\n`);
        resolve({ code, signal });
      });
      proc.on('error', (err) => {
        this._append(`--- spawn error: ${err.message}\n`);
        resolve({ code: null, signal: null, error: err });
      });
    });
    await this._waitHealthy();
  }

  async _waitHealthy() {
    const deadline = Date.now() + START_TIMEOUT_MS;
    let exitedEarly = null;
    this.exited.then((e) => {
      exitedEarly = e;
    });
    let lastErr = null;
    while (Date.now() < deadline) {
      if (exitedEarly) {
        throw new Error(
          `cutroom exited before it was healthy (code=${exitedEarly.code} signal=${exitedEarly.signal})\n${this.logs()}`,
        );
      }
      try {
        const res = await fetch(`${this.baseUrl}/healthz`, { signal: AbortSignal.timeout(1000) });
        await res.arrayBuffer();
        if (res.status === 200) return;
        lastErr = new Error(`/healthz answered ${res.status}`);
      } catch (err) {
        lastErr = err;
      }
      await sleep(50);
    }
    throw new Error(
      `cutroom did not answer /healthz within ${START_TIMEOUT_MS} ms (last: ${lastErr?.message})\n${this.logs()}`,
    );
  }

  async _signalAndWait(signal, timeoutMs) {
    if (!this.running) return this.proc ? this.exited : null;
    this.proc.kill(signal);
    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve(null), timeoutMs);
    });
    const result = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    if (result) return result;
    this.proc.kill('SIGKILL');
    const forced = await this.exited;
    return { ...forced, forced: true };
  }

  /** SIGTERM and wait for exit; SIGKILL if it has not exited after a timeout. Returns {code, signal, forced?}. */
  stop() {
    return this._signalAndWait('SIGTERM', STOP_TIMEOUT_MS);
  }

  /** SIGKILL and wait for the process to be gone. */
  kill() {
    return this._signalAndWait('SIGKILL', STOP_TIMEOUT_MS);
  }

  /** Starts the binary again on the same port and data dir (stops it first if it runs). */
  async restart() {
    if (this.running) await this.stop();
    await this._spawn();
  }

  /** Stops the server (if running) and removes its temp dir unless CUTROOM_E2E_KEEP=1. */
  async cleanup() {
    try {
      if (this.running) await this.stop();
    } finally {
      if (process.env.CUTROOM_E2E_KEEP === '1') {
        process.stderr.write(`# kept ${this.rootDir}\n`);
      } else {
        await fsp.rm(this.rootDir, { recursive: true, force: true });
      }
    }
  }

  /** fetch() against this server; `p` is a path ("/api/...") or an absolute URL. */
  fetch(p, init) {
    return fetch(new URL(p, this.baseUrl), init);
  }

  /** GET a JSON document; throws with the body if the status is not 200. */
  async getJson(p) {
    const res = await this.fetch(p);
    const text = await res.text();
    if (res.status !== 200) throw new Error(`GET ${p} answered ${res.status}: ${text}`);
    return JSON.parse(text);
  }
}

/**
 * Runs fn(server) with a freshly started server and always cleans it up. If fn
 * throws, the server's log tail is appended to the error's message.
 */
export async function withServer(t, fn, options = {}) {
  const server = await CutroomServer.start(options);
  try {
    return await fn(server);
  } catch (err) {
    // Put the server's log tail into the failure message (diagnostics would escape the newlines).
    const tail = `\n--- cutroom log tail (${server.rootDir}) ---\n${server.logs()}`;
    if (err instanceof Error) {
      try {
        err.message += tail;
      } catch {
        process.stderr.write(tail);
      }
    } else {
      process.stderr.write(tail);
    }
    throw err;
  } finally {
    await server.cleanup();
  }
}

// ---------------------------------------------------------------------------
// Test media

export async function sha256File(file) {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk);
  return hash.digest('hex');
}

export function sha256Buffer(buf) {
  return createHash('sha256').update(buf).digest('hex');
}

// Bump the version in a name when its recipe changes, so old caches are not reused.
const MEDIA_RECIPES = {
  // ~1 MB: 10 s of 320x180 H.264 at 800 kb/s with AAC audio, in mp4.
  small: {
    file: 'small-v1.mp4',
    args: [
      '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=25',
      '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-t', '10',
      '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-b:v', '800k',
      '-c:a', 'aac', '-b:a', '64k',
      '-movflags', '+faststart', '-f', 'mp4',
    ],
  },
  // ~20 MiB: 243 frames of raw 320x180 yuv420p (86,400 bytes each) in matroska.
  large: {
    file: 'large-v1.mkv',
    args: [
      '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=25',
      '-frames:v', '243',
      '-c:v', 'rawvideo', '-pix_fmt', 'yuv420p', '-f', 'matroska',
    ],
  },
};

async function makeMedia(dir, recipe) {
  const final = path.join(dir, recipe.file);
  if (!existsSync(final)) {
    // Write to a unique temp name and rename: a concurrent run either sees
    // no file or a complete one, never a partial file.
    const tmp = path.join(dir, `.${recipe.file}.${process.pid}.${Date.now()}.tmp`);
    try {
      await execFileP(
        'ffmpeg',
        ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', ...recipe.args, tmp],
        { maxBuffer: 16 * 1024 * 1024 },
      );
      await fsp.rename(tmp, final);
    } catch (err) {
      await fsp.rm(tmp, { force: true });
      throw new Error(`ffmpeg failed to make ${recipe.file}: ${err.stderr || err.message}`);
    }
  }
  const { size } = await fsp.stat(final);
  return { path: final, size, sha256: await sha256File(final) };
}

let mediaPromise = null;

/**
 * The test media, made once and cached in CUTROOM_TEST_MEDIA_DIR:
 * { small: {path, size, sha256}, large: {path, size, sha256} }.
 */
export function testMedia() {
  if (!mediaPromise) {
    mediaPromise = (async () => {
      await fsp.mkdir(TEST_MEDIA_DIR, { recursive: true });
      const [small, large] = await Promise.all([
        makeMedia(TEST_MEDIA_DIR, MEDIA_RECIPES.small),
        makeMedia(TEST_MEDIA_DIR, MEDIA_RECIPES.large),
      ]);
      return { small, large };
    })();
    mediaPromise.catch(() => {
      mediaPromise = null;
    });
  }
  return mediaPromise;
}
