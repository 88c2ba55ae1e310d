// End-to-end tests of cutroom's tus 1.0.0 upload endpoint (/api/uploads/),
// driven through the real tus-js-client against the real binary.
//
//   cd tests/e2e && npm install && node --test
//
// See lib/server.mjs for the environment variables (CUTROOM_BINARY, ...).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import * as fsp from 'node:fs/promises';
import http from 'node:http';
import { test } from 'node:test';

import { Upload } from 'tus-js-client';

import { sleep, testMedia, withServer } from './lib/server.mjs';

const KiB = 1024;
const MiB = 1024 * KiB;
const TUS = { 'Tus-Resumable': '1.0.0' };
const TEST_TIMEOUT = 30_000;

// ---------------------------------------------------------------------------
// helpers

/** tus-js-client URL storage kept in memory (what a browser keeps in localStorage). */
class MemoryUrlStorage {
  constructor() {
    this.items = new Map();
    this.next = 0;
  }
  async findAllUploads() {
    return [...this.items].map(([key, value]) => ({ ...value, urlStorageKey: key }));
  }
  async findUploadsByFingerprint(fingerprint) {
    const prefix = `tus::${fingerprint}::`;
    return (await this.findAllUploads()).filter((u) => u.urlStorageKey.startsWith(prefix));
  }
  async removeUpload(key) {
    this.items.delete(key);
  }
  async addUpload(fingerprint, upload) {
    const key = `tus::${fingerprint}::${++this.next}`;
    this.items.set(key, upload);
    return key;
  }
}

/** A fingerprint function unique to one test, so tests never resume each other's uploads. */
const fingerprintFor = (name) => async (_file, options) => `cutroom-e2e-${name}-${options.endpoint}`;

/**
 * Wraps a tus-js-client Upload: `done` settles on onSuccess/onError, and `log`
 * records every request it sent ({method, url, offset, length, status, headers}).
 * Callers call `start()` (after resuming, if they want to).
 */
function tusUpload(file, options) {
  const log = [];
  const entries = new Map();
  let upload;
  const done = new Promise((resolve, reject) => {
    upload = new Upload(file, {
      retryDelays: null,
      ...options,
      onBeforeRequest: async (req) => {
        const entry = {
          method: req.getMethod(),
          url: req.getURL(),
          offset: req.getHeader('Upload-Offset'),
          length: req.getHeader('Upload-Length'),
          deferLength: req.getHeader('Upload-Defer-Length'),
          status: null,
          headers: {},
        };
        entries.set(req, entry);
        log.push(entry);
        await options.onBeforeRequest?.(req);
      },
      onAfterResponse: async (req, res) => {
        const entry = entries.get(req);
        if (entry) {
          entry.status = res.getStatus();
          for (const h of ['Upload-Offset', 'Upload-Length', 'Location', 'Cutroom-Video-Id', 'Upload-Expires']) {
            const v = res.getHeader(h);
            if (v != null) entry.headers[h] = v;
          }
        }
        await options.onAfterResponse?.(req, res);
      },
      onSuccess: resolve,
      onError: reject,
    });
  });
  done.catch(() => {}); // callers that abort never await it
  return { upload, done, log, start: () => upload.start() };
}

async function head(url) {
  const res = await fetch(url, { method: 'HEAD', headers: TUS });
  return {
    status: res.status,
    offset: res.headers.get('upload-offset') === null ? null : Number(res.headers.get('upload-offset')),
    length: res.headers.get('upload-length') === null ? null : Number(res.headers.get('upload-length')),
    headers: res.headers,
  };
}

async function patch(url, offset, body, headers = {}) {
  const res = await fetch(url, {
    method: 'PATCH',
    headers: {
      ...TUS,
      'Content-Type': 'application/offset+octet-stream',
      'Upload-Offset': String(offset),
      ...headers,
    },
    body,
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** POST to the endpoint; returns the absolute upload URL and the response. */
async function create(endpoint, length, extraHeaders = {}) {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: { ...TUS, 'Upload-Length': String(length), ...extraHeaders },
  });
  const text = await res.text();
  assert.equal(res.status, 201, `POST ${endpoint} answered ${res.status}: ${text}`);
  const location = res.headers.get('location');
  assert.ok(location, 'POST answered without Location');
  assert.match(location, /\/api\/uploads\/upl_/, `unexpected Location ${location}`);
  return { url: new URL(location, endpoint).href, res };
}

function checksum(algo, buf) {
  return `${algo} ${createHash(algo).update(buf).digest('base64')}`;
}

/** Asserts that a body is cutroom's JSON error shape; returns the error object. */
function assertJsonError(text, what) {
  let body;
  assert.doesNotThrow(() => {
    body = JSON.parse(text);
  }, `${what}: body is not JSON: ${text}`);
  assert.equal(typeof body.error, 'object', `${what}: no "error" object in ${text}`);
  assert.equal(typeof body.error.code, 'string', `${what}: error.code is not a string in ${text}`);
  assert.equal(typeof body.error.message, 'string', `${what}: error.message is not a string in ${text}`);
  assert.ok('details' in body.error, `${what}: error.details missing in ${text}`);
  return body.error;
}

/** The video the final PATCH named: it exists, is ready, and holds exactly `media`'s bytes. */
async function assertVideo(server, videoId, media) {
  assert.match(videoId ?? '', /^vid_/, `final response has no Cutroom-Video-Id (got ${videoId})`);
  const video = await server.getJson(`/api/videos/${videoId}`);
  assert.equal(video.video_id, videoId);
  assert.equal(video.sha256, media.sha256, 'stored bytes differ from the uploaded file');
  assert.equal(video.size_bytes, media.size);
  assert.equal(video.media_type, 'video');
  assert.equal(video.status, 'ready');
  return video;
}

const videoIdOf = ({ lastResponse }) => lastResponse.getHeader('Cutroom-Video-Id');

/**
 * Sends a PATCH that announces `announced` bytes (Content-Length) but sends
 * only `data`, runs `whileOpen()` with the connection still open, then drops
 * the connection. Resolves to the response status if the server answered
 * before that (it should not), else null.
 */
function partialPatch(url, offset, data, announced, whileOpen = () => sleep(300)) {
  return new Promise((resolve) => {
    const req = http.request(url, {
      method: 'PATCH',
      agent: false,
      headers: {
        ...TUS,
        'Content-Type': 'application/offset+octet-stream',
        'Upload-Offset': String(offset),
        'Content-Length': String(announced),
      },
    });
    req.on('error', () => {});
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.write(data, async () => {
      await whileOpen();
      req.destroy();
      resolve(null);
    });
  });
}

/** HEAD until two answers 100 ms apart agree (a dropped PATCH may still be finishing on the server). */
async function settledHead(url, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  let prev = await head(url);
  while (Date.now() < deadline) {
    await sleep(100);
    const cur = await head(url);
    if (cur.status === 200 && prev.status === 200 && cur.offset === prev.offset) return cur;
    prev = cur;
  }
  return prev;
}

// ---------------------------------------------------------------------------
// tests

test('OPTIONS advertises tus 1.0.0 and every extension in the contract', { timeout: TEST_TIMEOUT }, async (t) => {
  await withServer(t, async (server) => {
    const res = await server.fetch('/api/uploads/', { method: 'OPTIONS' });
    await res.arrayBuffer();
    assert.ok(res.status === 200 || res.status === 204, `OPTIONS answered ${res.status}`);
    assert.equal(res.headers.get('tus-resumable'), '1.0.0');
    assert.ok((res.headers.get('tus-version') ?? '').split(',').map((s) => s.trim()).includes('1.0.0'));
    const extensions = (res.headers.get('tus-extension') ?? '').split(',').map((s) => s.trim());
    for (const ext of [
      'creation',
      'creation-with-upload',
      'creation-defer-length',
      'expiration',
      'checksum',
      'termination',
    ]) {
      assert.ok(extensions.includes(ext), `Tus-Extension lacks ${ext}: ${extensions}`);
    }
    const algos = (res.headers.get('tus-checksum-algorithm') ?? '').split(',').map((s) => s.trim());
    for (const algo of ['sha1', 'md5', 'sha256']) {
      assert.ok(algos.includes(algo), `Tus-Checksum-Algorithm lacks ${algo}: ${algos}`);
    }
  });
});

test('chunked upload (64 KiB PATCHes) completes and stores the exact bytes', { timeout: TEST_TIMEOUT }, async (t) => {
  const { small } = await testMedia();
  const buf = await fsp.readFile(small.path);
  const chunkSize = 64 * KiB;
  await withServer(t, async (server) => {
    const up = tusUpload(buf, {
      endpoint: server.endpoint,
      chunkSize,
      metadata: { filename: 'small.mp4', filetype: 'video/mp4' },
    });
    up.start();
    const result = await up.done;

    const posts = up.log.filter((e) => e.method === 'POST');
    assert.equal(posts.length, 1);
    assert.equal(posts[0].status, 201);
    assert.equal(posts[0].length, String(small.size));
    const patches = up.log.filter((e) => e.method === 'PATCH');
    assert.equal(patches.length, Math.ceil(small.size / chunkSize), 'one PATCH per chunk');
    patches.forEach((p, i) => {
      assert.equal(p.status, 204, `PATCH #${i} answered ${p.status}`);
      assert.equal(Number(p.offset), i * chunkSize, `PATCH #${i} sent the wrong offset`);
      assert.equal(Number(p.headers['Upload-Offset']), Math.min((i + 1) * chunkSize, small.size));
    });
    assert.equal(up.upload.url, new URL(posts[0].headers.Location, server.endpoint).href);

    const videoId = videoIdOf(result);
    assert.equal(patches.at(-1).headers['Cutroom-Video-Id'], videoId);
    await assertVideo(server, videoId, small);

    // The finished upload reports its full offset.
    const h = await head(up.upload.url);
    assert.equal(h.status, 200);
    assert.equal(h.offset, small.size);
    assert.equal(h.length, small.size);
  });
});

test('abort() then a new Upload resumes from the server offset, not from 0', { timeout: TEST_TIMEOUT }, async (t) => {
  const { small } = await testMedia();
  const buf = await fsp.readFile(small.path);
  const chunkSize = 64 * KiB;
  await withServer(t, async (server) => {
    const urlStorage = new MemoryUrlStorage();
    const base = {
      endpoint: server.endpoint,
      chunkSize,
      urlStorage,
      fingerprint: fingerprintFor('abort-resume'),
      metadata: { filename: 'small.mp4' },
    };

    // First attempt: abort after 5 accepted chunks.
    let abortedAt = null;
    let onAborted;
    const aborted = new Promise((resolve) => {
      onAborted = resolve;
    });
    const first = tusUpload(buf, {
      ...base,
      onChunkComplete: (_size, accepted) => {
        if (abortedAt === null && accepted >= 5 * chunkSize) {
          abortedAt = accepted;
          first.upload.abort(); // before the next PATCH is sent
          onAborted();
        }
      },
    });
    first.start();
    await Promise.race([
      aborted,
      first.done.then(() => assert.fail('the upload finished before it could be aborted')),
    ]);
    assert.equal(abortedAt, 5 * chunkSize);
    const h = await head(first.upload.url);
    assert.equal(h.status, 200);
    assert.equal(h.offset, abortedAt, 'HEAD offset after abort');
    assert.equal(h.length, small.size);

    // Second attempt: find the stored URL and resume.
    let firstProgress = null;
    const second = tusUpload(buf, {
      ...base,
      retryDelays: [100, 500],
      onProgress: (sent) => {
        firstProgress ??= sent;
      },
    });
    const previous = await second.upload.findPreviousUploads();
    assert.equal(previous.length, 1, 'exactly one stored upload for this fingerprint');
    assert.equal(previous[0].uploadUrl, first.upload.url);
    second.upload.resumeFromPreviousUpload(previous[0]);
    second.start();
    const result = await second.done;

    assert.equal(second.log.filter((e) => e.method === 'POST').length, 0, 'resuming must not create a new upload');
    assert.equal(second.log[0].method, 'HEAD');
    const patches = second.log.filter((e) => e.method === 'PATCH');
    assert.equal(Number(patches[0].offset), abortedAt, 'the first resumed PATCH starts at the aborted offset');
    assert.equal(firstProgress, abortedAt, 'progress resumed from the aborted offset, not 0');
    assert.equal(patches.length, Math.ceil((small.size - abortedAt) / chunkSize));
    await assertVideo(server, videoIdOf(result), small);
  });
});

test('a connection dropped mid-PATCH leaves a consistent offset to resume from', { timeout: TEST_TIMEOUT }, async (t) => {
  const { small } = await testMedia();
  const buf = await fsp.readFile(small.path);
  await withServer(t, async (server) => {
    const { url } = await create(server.endpoint, small.size);
    let r = await patch(url, 0, buf.subarray(0, 128 * KiB));
    assert.equal(r.status, 204, r.text);

    // Announce 256 KiB, send 100 KiB, then drop the connection.
    const sent = 100 * KiB;
    const early = await partialPatch(url, 128 * KiB, buf.subarray(128 * KiB, 128 * KiB + sent), 256 * KiB);
    assert.equal(early, null, `the server answered ${early} to a PATCH whose body had not arrived`);

    const h = await settledHead(url);
    assert.equal(h.status, 200);
    assert.ok(
      h.offset >= 128 * KiB && h.offset <= 128 * KiB + sent,
      `offset after a dropped PATCH must be between the last acknowledged offset and the bytes sent, got ${h.offset}`,
    );

    // tus-js-client resumes from the URL and finishes; the bytes must be exact.
    const up = tusUpload(buf, { uploadUrl: url, chunkSize: 256 * KiB, retryDelays: [100, 300, 1000] });
    up.start();
    const result = await up.done;
    assert.equal(up.log[0].method, 'HEAD');
    assert.equal(Number(up.log.find((e) => e.method === 'PATCH').offset), h.offset);
    await assertVideo(server, videoIdOf(result), small);
  });
});

test('resume after the server is SIGKILLed mid-upload and restarted (twice)', { timeout: TEST_TIMEOUT }, async (t) => {
  const { large } = await testMedia();
  const chunkSize = 1 * MiB;
  const killAfter = 6 * MiB;
  await withServer(t, async (server) => {
    const urlStorage = new MemoryUrlStorage();
    const base = {
      endpoint: server.endpoint,
      chunkSize,
      urlStorage,
      fingerprint: fingerprintFor('sigkill'),
      metadata: { filename: 'large.mkv' },
    };

    // Upload from a file stream; once 6 MiB are acknowledged, SIGKILL the
    // server as soon as the body of the next PATCH starts to flow.
    let accepted = 0;
    let killed = null;
    const stream1 = createReadStream(large.path);
    const first = tusUpload(stream1, {
      ...base,
      onChunkComplete: (_size, bytesAccepted) => {
        accepted = bytesAccepted;
      },
      onProgress: (bytesSent) => {
        if (killed === null && accepted >= killAfter && bytesSent > accepted) {
          killed = server.kill();
        }
      },
    });
    first.start();
    await assert.rejects(first.done, 'the upload must fail when the server dies');
    stream1.destroy();
    assert.ok(killed, 'the server was not killed during the upload');
    const exit = await killed;
    assert.equal(exit.signal, 'SIGKILL');
    assert.ok(accepted >= killAfter && accepted < large.size);

    await server.restart();
    const h = await head(first.upload.url);
    assert.equal(h.status, 200, 'the upload survives a SIGKILL');
    assert.equal(h.length, large.size);
    assert.ok(
      h.offset >= accepted && h.offset <= accepted + chunkSize,
      `offset after restart must cover every acknowledged byte (${accepted}) and no more than was sent; got ${h.offset}`,
    );

    // Second crash, with half a PATCH body already on the server: announce
    // 2 MiB, send 1 MiB, wait, SIGKILL. The offset may keep some, all or none
    // of that 1 MiB, never more, and what it keeps must be the right bytes.
    const data = await fsp.readFile(large.path);
    const sent = 1 * MiB;
    const early = await partialPatch(first.upload.url, h.offset, data.subarray(h.offset, h.offset + sent), 2 * MiB, async () => {
      await sleep(300);
      await server.kill();
    });
    assert.equal(early, null, `the server answered ${early} to a PATCH whose body had not arrived`);
    await server.restart();
    const h2 = await head(first.upload.url);
    assert.equal(h2.status, 200);
    assert.ok(
      h2.offset >= h.offset && h2.offset <= h.offset + sent,
      `offset after a crash mid-PATCH must be within [${h.offset}, ${h.offset + sent}]; got ${h2.offset}`,
    );

    const stream2 = createReadStream(large.path);
    const second = tusUpload(stream2, { ...base, retryDelays: [100, 500] });
    const previous = await second.upload.findPreviousUploads();
    assert.equal(previous.length, 1);
    second.upload.resumeFromPreviousUpload(previous[0]);
    second.start();
    const result = await second.done;
    assert.equal(second.log.filter((e) => e.method === 'POST').length, 0);
    assert.equal(Number(second.log.find((e) => e.method === 'PATCH').offset), h2.offset);
    await assertVideo(server, videoIdOf(result), large);
  });
});

test('Upload-Checksum: a mismatch answers 460 and keeps the offset; sha1, md5 and sha256 are accepted', { timeout: TEST_TIMEOUT }, async (t) => {
  const { small } = await testMedia();
  const buf = await fsp.readFile(small.path);
  const a = buf.subarray(0, 256 * KiB);
  const b = buf.subarray(256 * KiB, 512 * KiB);
  const c = buf.subarray(512 * KiB);
  await withServer(t, async (server) => {
    const { url } = await create(server.endpoint, small.size);

    // Wrong sha1 at offset 0.
    let r = await patch(url, 0, a, { 'Upload-Checksum': checksum('sha1', randomBytes(16)) });
    assert.equal(r.status, 460, `wrong sha1 answered ${r.status}: ${r.text}`);
    assertJsonError(r.text, 'checksum mismatch');
    let h = await head(url);
    assert.equal(h.offset, 0, 'a rejected PATCH must not move the offset');

    r = await patch(url, 0, a, { 'Upload-Checksum': checksum('sha1', a) });
    assert.equal(r.status, 204, r.text);
    assert.equal(Number(r.headers.get('upload-offset')), a.length);

    // Wrong md5 at a non-zero offset: the right length, one flipped byte.
    const corrupt = Buffer.from(b);
    corrupt[1000] ^= 0xff;
    r = await patch(url, a.length, corrupt, { 'Upload-Checksum': checksum('md5', b) });
    assert.equal(r.status, 460, `wrong md5 answered ${r.status}: ${r.text}`);
    h = await head(url);
    assert.equal(h.offset, a.length);

    // An algorithm the server does not support: 400 (tus checksum extension).
    r = await patch(url, a.length, b, { 'Upload-Checksum': `crc99 ${Buffer.from('x').toString('base64')}` });
    assert.equal(r.status, 400, `unsupported algorithm answered ${r.status}: ${r.text}`);
    h = await head(url);
    assert.equal(h.offset, a.length);

    r = await patch(url, a.length, b, { 'Upload-Checksum': checksum('md5', b) });
    assert.equal(r.status, 204, r.text);
    r = await patch(url, a.length + b.length, c, { 'Upload-Checksum': checksum('sha256', c) });
    assert.equal(r.status, 204, r.text);
    assert.equal(Number(r.headers.get('upload-offset')), small.size);
    await assertVideo(server, r.headers.get('cutroom-video-id'), small);
  });
});

test('protocol errors: wrong offset is 409, unsupported version is 412, both leave the upload intact', { timeout: TEST_TIMEOUT }, async (t) => {
  const { small } = await testMedia();
  const buf = await fsp.readFile(small.path);
  await withServer(t, async (server) => {
    const { url } = await create(server.endpoint, small.size);
    let r = await patch(url, 0, buf.subarray(0, 64 * KiB));
    assert.equal(r.status, 204, r.text);

    r = await patch(url, 0, buf.subarray(0, 64 * KiB));
    assert.equal(r.status, 409, `a stale Upload-Offset answered ${r.status}: ${r.text}`);
    r = await patch(url, 128 * KiB, buf.subarray(128 * KiB, 192 * KiB));
    assert.equal(r.status, 409, `an Upload-Offset past the end answered ${r.status}: ${r.text}`);

    r = await patch(url, 64 * KiB, buf.subarray(64 * KiB, 128 * KiB), { 'Tus-Resumable': '0.2.2' });
    assert.equal(r.status, 412, `Tus-Resumable 0.2.2 answered ${r.status}: ${r.text}`);
    assert.ok(r.headers.get('tus-version'), '412 must carry Tus-Version');

    r = await patch(url, 64 * KiB, buf.subarray(64 * KiB, 128 * KiB), { 'Content-Type': 'application/json' });
    assert.ok(r.status >= 400 && r.status < 500, `a PATCH with the wrong Content-Type answered ${r.status}`);

    const h = await head(url);
    assert.equal(h.status, 200);
    assert.equal(h.offset, 64 * KiB);
    assert.equal(h.headers.get('tus-resumable'), '1.0.0');
    assert.match(h.headers.get('cache-control') ?? '', /no-store/);
  });
});

test('creation-with-upload, creation-defer-length and termination through tus-js-client', { timeout: TEST_TIMEOUT }, async (t) => {
  const { small } = await testMedia();
  const buf = await fsp.readFile(small.path);
  const chunkSize = 256 * KiB;
  await withServer(t, async (server) => {
    await t.test('creation-with-upload: the POST carries the first chunk', async () => {
      const up = tusUpload(buf, { endpoint: server.endpoint, chunkSize, uploadDataDuringCreation: true });
      up.start();
      const result = await up.done;
      const post = up.log[0];
      assert.equal(post.method, 'POST');
      assert.equal(post.status, 201);
      assert.equal(Number(post.headers['Upload-Offset']), chunkSize, 'POST with a body answers its offset');
      assert.equal(Number(up.log.find((e) => e.method === 'PATCH').offset), chunkSize);
      await assertVideo(server, videoIdOf(result), small);
    });

    await t.test('creation-defer-length: the length arrives with the last PATCH', async () => {
      const up = tusUpload(buf, { endpoint: server.endpoint, chunkSize, uploadLengthDeferred: true });
      up.start();
      const result = await up.done;
      assert.equal(up.log[0].method, 'POST');
      assert.equal(up.log[0].deferLength, '1');
      const patches = up.log.filter((e) => e.method === 'PATCH');
      assert.equal(patches.at(-1).length, String(small.size));
      assert.ok(patches.slice(0, -1).every((p) => p.length === undefined));
      await assertVideo(server, videoIdOf(result), small);
    });

    await t.test('termination: abort(true) deletes the upload', async () => {
      let onChunk;
      const oneChunk = new Promise((resolve) => {
        onChunk = resolve;
      });
      let terminating = false;
      const up = tusUpload(buf, {
        endpoint: server.endpoint,
        chunkSize,
        onChunkComplete: () => {
          if (terminating) return;
          terminating = true;
          up.upload.abort(true).then(() => onChunk(), onChunk);
        },
      });
      up.start();
      const err = await oneChunk;
      assert.equal(err, undefined, `terminate failed: ${err}`);
      const del = up.log.find((e) => e.method === 'DELETE');
      assert.ok(del, 'abort(true) sent no DELETE');
      assert.equal(del.status, 204);
      const h = await head(up.upload.url);
      assert.ok(h.status === 404 || h.status === 410, `HEAD of a terminated upload answered ${h.status}`);
    });
  });
});

test('an upload that is not media is refused with 415 when it completes', { timeout: TEST_TIMEOUT }, async (t) => {
  const junk = randomBytes(200 * KiB);
  await withServer(t, async (server) => {
    const up = tusUpload(junk, { endpoint: server.endpoint, chunkSize: 128 * KiB });
    up.start();
    const err = await up.done.then(
      () => assert.fail('random bytes were accepted as media'),
      (e) => e,
    );
    const res = err.originalResponse;
    assert.ok(res, `failed without an HTTP response: ${err.message}`);
    assert.equal(res.getStatus(), 415, `final PATCH answered ${res.getStatus()}: ${res.getBody()}`);
    assertJsonError(res.getBody(), 'non-media upload');
    assert.equal(up.log.filter((e) => e.method === 'PATCH').length, 2, 'only the completing PATCH is refused');
  });
});
