#!/usr/bin/env python3
"""Crash soak for `cutroom serve` (see README.md beside this file).

Mixed clients (tus uploads in several throttled PATCHes, multipart uploads,
processing and render jobs) run against one server while it is killed with
SIGKILL at random moments and restarted on the same data dir. At the end
the server is stopped cleanly and everything is checked against what the
clients were told and against the database and blob files; the exit status
is 1 on any violation.

Python 3 standard library only. Driven by run.sh, which makes the media.
"""
import argparse
import base64
import collections
import hashlib
import http.client
import json
import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time

NET_ERRORS = (OSError, http.client.HTTPException, socket.timeout)
TERMINAL = ("succeeded", "failed", "cancelled")


def log(msg):
    print(f"[soak {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Stats:
    """Counters and findings shared by every thread."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts = collections.Counter()
        self.violations = []
        self.notes = []

    def inc(self, key, n=1):
        with self.lock:
            self.counts[key] += n

    def violation(self, msg):
        with self.lock:
            self.violations.append(msg)
        log("VIOLATION: " + msg)

    def note(self, msg):
        with self.lock:
            self.notes.append(msg)


STATS = Stats()


# --- the server -----------------------------------------------------------------


class Server:
    def __init__(self, args):
        self.args = args
        self.port = args.port
        self.proc = None
        self.up = threading.Event()
        self.generation = 0
        self.log_path = os.path.join(args.work, "serve.log")
        env = {k: v for k, v in os.environ.items() if not k.startswith("CUTROOM_")}
        self.env = env

    def start(self):
        self.generation += 1
        cmd = [self.args.binary, "serve", "--listen", f"127.0.0.1:{self.port}", "--data-dir", self.args.data,
               "--log-format", "json", "--set", f"workers.lease_ms={self.args.lease_ms}"]
        if self.args.workers:
            cmd += ["--workers", str(self.args.workers)]
        for attempt in range(20):
            with open(self.log_path, "ab") as out:
                out.write(f"--- start #{self.generation} at {time.time():.3f}\n".encode())
                out.flush()
                self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=self.env)
            t0 = time.time()
            while time.time() - t0 < 60:
                if self.proc.poll() is not None:
                    break
                try:
                    c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                    c.request("GET", "/healthz")
                    if c.getresponse().status == 200:
                        c.close()
                        self.up.set()
                        return time.time() - t0
                except NET_ERRORS:
                    pass
                time.sleep(0.05)
            rc = self.proc.poll()
            if rc is None:
                self.proc.kill()
                self.proc.wait()
            log(f"server start #{self.generation} failed (exit {rc}); retrying")
            time.sleep(0.5)
        raise SystemExit("the server would not start; see " + self.log_path)

    def kill9(self):
        self.up.clear()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        self.up.clear()
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return "timeout"

    def wait_up(self, timeout=120):
        if not self.up.wait(timeout):
            raise SystemExit("the server stayed down for %d s" % timeout)


# --- HTTP ----------------------------------------------------------------------


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body

    def header(self, name):
        return self.headers.get(name.lower())

    def json(self):
        return json.loads(self.body or b"null")


class Client:
    def __init__(self, server, rate_bps, piece=16384):
        self.server = server
        self.rate = rate_bps
        self.piece = piece
        self.in_body = False  # sending a request body right now (for the kill report)

    def request(self, method, path, headers=None, body=b"", throttle=False, timeout=60):
        c = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=timeout)
        try:
            c.putrequest(method, path, skip_accept_encoding=True)
            headers = dict(headers or {})
            if body or method in ("POST", "PATCH", "PUT"):
                headers["Content-Length"] = str(len(body))
            for k, v in headers.items():
                c.putheader(k, v)
            c.endheaders()
            if body:
                if throttle and self.rate > 0:
                    self.in_body = True
                    try:
                        for i in range(0, len(body), self.piece):
                            c.send(body[i:i + self.piece])
                            time.sleep(min(self.piece, len(body) - i) / self.rate)
                    finally:
                        self.in_body = False
                else:
                    c.send(body)
            r = c.getresponse()
            data = r.read()
            return Response(r.status, r.getheaders(), data)
        finally:
            c.close()


TUS = {"Tus-Resumable": "1.0.0"}


# --- media ----------------------------------------------------------------------


class Media:
    def __init__(self, path):
        self.path = path
        self.name = os.path.basename(path)
        with open(path, "rb") as f:
            self.data = f.read()
        self.sha = hashlib.sha256(self.data).hexdigest()
        self.size = len(self.data)


# --- clients --------------------------------------------------------------------


class Ledger:
    """What the clients were told."""

    def __init__(self):
        self.lock = threading.Lock()
        self.videos = {}  # video_id -> (sha, how)
        self.tus_done = {}  # upload path -> video_id
        self.parked = []  # (upload path, acked offset, Media)
        self.jobs_seen = {}  # job_id -> last status a client saw

    def video(self, vid, media, how):
        with self.lock:
            if vid in self.videos and self.videos[vid][0] != media.sha:
                STATS.violation(f"{vid} acknowledged twice for different files")
            self.videos[vid] = (media.sha, how)


LEDGER = Ledger()


class TusUploader:
    """One tus upload in several PATCHes, resumed with HEAD after any failure."""

    def __init__(self, client, media, rng, parts):
        self.c = client
        self.m = media
        self.rng = rng
        # PATCH boundaries: `parts` pieces of random sizes.
        cuts = sorted(rng.sample(range(1, media.size), parts - 1)) if parts > 1 else []
        self.bounds = cuts + [media.size]
        self.path = None
        self.acked = 0  # the offset the server last confirmed (204 or HEAD)
        self.sent_hi = 0  # the end of the furthest PATCH body begun
        self.video_id = None

    def create(self):
        meta = "filename " + base64.b64encode(self.m.name.encode()).decode()
        meta += ",filetype " + base64.b64encode(b"video/mp4").decode()
        while True:
            try:
                r = self.c.request("POST", "/api/uploads",
                                   {**TUS, "Upload-Length": str(self.m.size), "Upload-Metadata": meta})
            except NET_ERRORS:
                STATS.inc("tus create retried")  # the lost one may exist as an abandoned upload
                self.c.server.wait_up()
                continue
            if r.status == 201:
                self.path = r.header("Location")
                return
            STATS.inc(f"tus create answered {r.status}")
            time.sleep(0.5)

    def resync(self, why):
        """HEAD after a failed PATCH: the server's offset must lie between
        what it confirmed and what was sent, and the upload must still exist."""
        while True:
            try:
                r = self.c.request("HEAD", self.path, TUS)
            except NET_ERRORS:
                self.c.server.wait_up()
                continue
            break
        if r.status != 200:
            STATS.violation(f"tus {self.path} ({why}): HEAD answered {r.status} {r.body[:200]!r}")
            return False
        off = int(r.header("Upload-Offset"))
        if not (self.acked <= off <= self.sent_hi):
            STATS.violation(f"tus {self.path}: HEAD offset {off} outside [{self.acked}, {self.sent_hi}] after {why}")
            return False
        STATS.inc("tus resumes (HEAD after a failed PATCH)")
        if off > self.acked:
            STATS.inc("tus resumes past the last acknowledged offset")
        self.acked = off
        vid = r.header("Cutroom-Video-Id")
        if vid:
            self.video_id = vid
            STATS.inc("tus uploads finished by a PATCH whose answer was lost")
        return True

    def patch(self, end):
        """One PATCH from self.acked to end; True when the server confirmed it."""
        body = self.m.data[self.acked:end]
        self.sent_hi = max(self.sent_hi, end)
        headers = {**TUS, "Content-Type": "application/offset+octet-stream", "Upload-Offset": str(self.acked)}
        try:
            r = self.c.request("PATCH", self.path, headers, body, throttle=True)
        except NET_ERRORS as e:
            STATS.inc("tus PATCHes cut by a kill")
            self.c.server.wait_up()
            return self.resync(type(e).__name__)
        if r.status == 204:
            off = int(r.header("Upload-Offset"))
            if off != end:
                STATS.violation(f"tus {self.path}: PATCH to {end} answered offset {off}")
                return False
            self.acked = off
            self.video_id = r.header("Cutroom-Video-Id") or self.video_id
            STATS.inc("tus PATCHes")
            return True
        STATS.inc(f"tus PATCH answered {r.status}")
        if r.status >= 500 or r.status in (409, 423, 429):
            time.sleep(0.3)
            self.c.server.wait_up()
            return self.resync(f"status {r.status}")
        STATS.violation(f"tus {self.path}: PATCH answered {r.status} {r.body[:300]!r}")
        return False

    def run(self, stop_at=None):
        """Uploads up to stop_at (None: all of it). True when it got there."""
        if self.path is None:
            self.create()
        target = self.m.size if stop_at is None else stop_at
        for _ in range(200):
            if self.video_id or self.acked >= target:
                break
            end = next(b for b in self.bounds if b > self.acked)
            if stop_at is not None:
                end = min(end, stop_at)
            if not self.patch(end):
                return False
        if stop_at is not None:
            return self.acked >= stop_at
        if not self.video_id and self.acked == self.m.size:
            # Complete on disk, not yet a video (killed between the last
            # byte and the registration): an empty PATCH finishes it.
            STATS.inc("tus uploads finished with an empty PATCH")
            for _ in range(20):
                try:
                    r = self.c.request("PATCH", self.path, {**TUS, "Content-Type": "application/offset+octet-stream",
                                                            "Upload-Offset": str(self.acked)})
                except NET_ERRORS:
                    self.c.server.wait_up()
                    if not self.resync("empty PATCH cut"):
                        return False
                    if self.video_id:
                        break
                    continue
                if r.status == 204 and r.header("Cutroom-Video-Id"):
                    self.video_id = r.header("Cutroom-Video-Id")
                    break
                STATS.violation(f"tus {self.path}: all {self.acked} bytes are in, but the empty PATCH answered "
                                f"{r.status} {r.body[:300]!r}")
                return False
        if not self.video_id:
            STATS.violation(f"tus {self.path}: no video after uploading {self.acked}/{self.m.size} bytes")
            return False
        LEDGER.video(self.video_id, self.m, "tus")
        with LEDGER.lock:
            LEDGER.tus_done[self.path] = self.video_id
        return True


def multipart_body(media, title):
    boundary = "soak" + hashlib.md5(os.urandom(8)).hexdigest()
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n{title}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{media.name}\"\r\n"
            f"Content-Type: video/mp4\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return head + media.data + tail, f"multipart/form-data; boundary={boundary}"


def multipart_upload(client, media, title):
    """POST /api/videos/upload, from scratch after any failure. Returns the video id."""
    body, ctype = multipart_body(media, title)
    for attempt in range(100):
        try:
            r = client.request("POST", "/api/videos/upload", {"Content-Type": ctype}, body, throttle=True)
        except NET_ERRORS:
            STATS.inc("multipart uploads cut by a kill (retried from scratch)")
            client.server.wait_up()
            continue
        if r.status == 201:
            vid = r.json()["video_id"]
            got = r.json().get("sha256")
            if got != media.sha:
                STATS.violation(f"multipart {vid}: answered sha256 {got}, the file has {media.sha}")
            LEDGER.video(vid, media, "multipart")
            STATS.inc("multipart uploads")
            return vid
        STATS.inc(f"multipart upload answered {r.status}")
        if r.status >= 500 or r.status == 429:
            time.sleep(0.3)
            client.server.wait_up()
            continue
        STATS.violation(f"multipart upload of {media.name} answered {r.status} {r.body[:300]!r}")
        return None
    STATS.violation(f"multipart upload of {media.name} never succeeded")
    return None


def get_json(client, path):
    while True:
        try:
            r = client.request("GET", path, timeout=30)
            return r
        except NET_ERRORS:
            client.server.wait_up()


class Soak:
    def __init__(self, args, media):
        self.args = args
        self.media = media
        self.server = Server(args)
        self.stop = threading.Event()
        self.clients = []

    # Each client thread gets its own Random so a seed replays the same plan.
    def tus_client(self, idx, rng):
        c = Client(self.server, self.args.rate_kbps * 1000)
        self.clients.append(c)
        # One upload parked part-way for the whole run: it lives through every kill.
        m = rng.choice(self.media)
        parked = TusUploader(c, m, rng, 4)
        stop_at = rng.randrange(m.size // 4, m.size * 3 // 4)
        if parked.run(stop_at=stop_at):
            with LEDGER.lock:
                LEDGER.parked.append((parked, m))
        while not self.stop.is_set():
            m = rng.choice(self.media)
            TusUploader(c, m, rng, rng.randint(3, 6)).run()
            STATS.inc("tus uploads")
            time.sleep(rng.uniform(*self.args.pause))

    def multipart_client(self, idx, rng):
        c = Client(self.server, self.args.rate_kbps * 1000)
        self.clients.append(c)
        while not self.stop.is_set():
            m = rng.choice(self.media)
            multipart_upload(c, m, f"soak multipart {idx}")
            time.sleep(rng.uniform(*self.args.pause))

    def job_client(self, idx, rng):
        c = Client(self.server, self.args.rate_kbps * 1000)
        self.clients.append(c)
        vid = None
        while vid is None and not self.stop.is_set():
            vid = multipart_upload(c, rng.choice(self.media), f"soak jobs {idx}")
        actions = ["scenes", "frames", "thumbnails", "transcription", "all", "all", "render", "render"]
        while not self.stop.is_set():
            action = rng.choice(actions)
            try:
                if action == "render":
                    spec = {"video_id": vid, "ranges": [[0.2, 1.8]], "aspect": rng.choice(["9:16", "1:1"]),
                            "reframe": "center", "captions": False, "output": {"size": "native"}}
                    r = c.request("POST", "/api/edit-jobs", {"Content-Type": "application/json"},
                                  json.dumps(spec).encode())
                else:
                    r = c.request("POST", f"/api/videos/{vid}/process/{action}")
            except NET_ERRORS:
                STATS.inc("job requests cut by a kill")
                self.server.wait_up()
                continue
            if r.status != 202:
                STATS.inc(f"job request answered {r.status}")
                if r.status < 500 and r.status != 429:
                    STATS.violation(f"{action} on {vid} answered {r.status} {r.body[:300]!r}")
                time.sleep(0.5)
                continue
            body = r.json()
            ids = [s["job_id"] for s in body.get("stages", []) if s.get("job_id")] or [body["job_id"]]
            STATS.inc("job requests accepted")
            STATS.inc("jobs queued by clients", len(ids))
            deadline = time.time() + self.args.job_timeout_s
            pending = set(ids)
            while pending and time.time() < deadline:
                for j in list(pending):
                    r = get_json(c, f"/api/jobs/{j}")
                    if r.status != 200:
                        STATS.violation(f"GET /api/jobs/{j} answered {r.status}")
                        pending.discard(j)
                        continue
                    st = r.json()["status"]
                    with LEDGER.lock:
                        LEDGER.jobs_seen[j] = st
                    if st in TERMINAL:
                        pending.discard(j)
                time.sleep(0.25)
            if pending:
                STATS.inc("client gave up waiting for a job (checked again at the end)")
            time.sleep(rng.uniform(*self.args.pause))

    # --- the run ------------------------------------------------------------------

    def db(self):
        path = os.path.join(self.args.data, "cutroom.db")
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        con.row_factory = sqlite3.Row
        return con

    def kill_report(self):
        bodies = sum(1 for c in self.clients if c.in_body)
        try:
            con = self.db()
            running = con.execute("SELECT COUNT(*) FROM jobs WHERE status = 'running'").fetchone()[0]
            con.close()
        except sqlite3.Error:
            running = "?"
        return bodies, running

    def run(self):
        a = self.args
        rng = random.Random(a.seed)
        t = self.server.start()
        log(f"server up in {t:.2f} s on port {a.port}; data {a.data}")
        kinds = ["tus"] * a.tus_clients + ["multipart"] * a.multipart_clients + ["jobs"] * a.job_clients
        threads = []
        for i, kind in enumerate(kinds):
            fn = {"tus": self.tus_client, "multipart": self.multipart_client, "jobs": self.job_client}[kind]
            th = threading.Thread(target=self.guard, args=(fn, i, random.Random(rng.random())), daemon=True,
                                  name=f"{kind}-{i}")
            th.start()
            threads.append(th)
        # Kill times: spread over the run, at least 3 s apart.
        t0 = time.time()
        times = []
        while len(times) < a.kills:
            x = rng.uniform(0.08, 0.92) * a.duration_s
            if all(abs(x - y) >= 3 for y in times):
                times.append(x)
        times.sort()
        self.kills = []
        for k, at in enumerate(times, 1):
            time.sleep(max(0, t0 + at - time.time()))
            bodies, running = self.kill_report()
            self.server.kill9()
            down = rng.uniform(0, 2)
            log(f"kill -9 #{k} at {at:.1f} s ({bodies} request bodies in flight, {running} jobs running); "
                f"restart in {down:.1f} s")
            time.sleep(down)
            up = self.server.start()
            self.kills.append((at, bodies, running, down + up))
        time.sleep(max(0, t0 + a.duration_s - time.time()))
        log("stopping the clients")
        self.stop.set()
        for th in threads:
            th.join(timeout=a.job_timeout_s + 60)
            if th.is_alive():
                STATS.violation(f"client {th.name} did not finish")
        self.finish_parked()
        self.drain()
        self.api_checks()
        rc = self.server.stop()
        if rc != 0:
            STATS.violation(f"the server exited {rc} on SIGTERM (expected 0)")
        self.db_checks()
        self.fsck()

    def guard(self, fn, idx, rng):
        try:
            fn(idx, rng)
        except SystemExit as e:
            STATS.violation(f"client {idx}: {e}")
        except Exception as e:  # a bug in the soak itself, or a broken answer
            STATS.violation(f"client {idx} crashed: {type(e).__name__}: {e}")

    def finish_parked(self):
        """Parked uploads lived through every kill: the server must still
        know their exact offset, their bytes on disk must be the file's,
        and they must finish into intact videos."""
        c = Client(self.server, 0)
        for up, m in LEDGER.parked:
            r = c.request("HEAD", up.path, TUS)
            if r.status != 200:
                STATS.violation(f"parked tus {up.path}: HEAD answered {r.status}")
                continue
            off = int(r.header("Upload-Offset"))
            if off != up.acked:
                STATS.violation(f"parked tus {up.path}: offset {off} after the kills, {up.acked} acknowledged")
                continue
            part = os.path.join(self.args.data, "uploads", up.path.rsplit("/", 1)[1] + ".part")
            try:
                with open(part, "rb") as f:
                    on_disk = f.read(off)
            except OSError as e:
                STATS.violation(f"parked tus {up.path}: {e}")
                continue
            if on_disk != m.data[:off]:
                STATS.violation(f"parked tus {up.path}: the first {off} bytes on disk differ from the file")
                continue
            STATS.inc("parked tus uploads at the right offset with the right bytes")
            up.sent_hi = off
            if up.run():
                STATS.inc("parked tus uploads finished after the kills")

    def drain(self):
        """Waits for every job to end (running ones of a killed server are
        taken over once their lease runs out)."""
        t0 = time.time()
        while time.time() - t0 < self.args.drain_s:
            con = self.db()
            n = con.execute("SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'running')").fetchone()[0]
            con.close()
            if n == 0:
                log(f"all jobs ended ({time.time() - t0:.1f} s after the clients stopped)")
                return
            time.sleep(0.5)
        STATS.violation(f"jobs still queued or running {self.args.drain_s} s after the clients stopped")

    def api_checks(self):
        c = Client(self.server, 0)
        for vid, (sha, how) in sorted(LEDGER.videos.items()):
            r = get_json(c, f"/api/videos/{vid}")
            if r.status != 200:
                STATS.violation(f"{how} {vid}: GET answered {r.status}")
                continue
            v = r.json()
            if v.get("status") != "ready" or v.get("sha256") != sha:
                STATS.violation(f"{how} {vid}: status {v.get('status')} sha256 {v.get('sha256')}, expected ready {sha}")
            else:
                STATS.inc("acknowledged videos ready with the right sha256 (API)")
        for j, seen in LEDGER.jobs_seen.items():
            r = get_json(c, f"/api/jobs/{j}")
            st = r.json().get("status") if r.status == 200 else r.status
            if seen in TERMINAL and st != seen:
                STATS.violation(f"job {j} was {seen}, later {st}")

    def db_checks(self):
        con = self.db()
        q = lambda sql, *p: con.execute(sql, p).fetchall()
        shas = {m.sha for m in self.media}
        blobs = os.path.join(self.args.data, "blobs")

        def blob_sha(key):
            h = hashlib.sha256()
            with open(os.path.join(blobs, key), "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            return h.hexdigest()

        # Media: every row ready, its blob file hashing to its sha256 and to a
        # source file; every acknowledged video present.
        rows = {r["video_id"]: r for r in q("SELECT video_id, status, sha256, storage_key, size_bytes FROM media")}
        STATS.counts["media rows"] = len(rows)
        for vid, r in rows.items():
            if r["status"] != "ready":
                STATS.violation(f"media {vid} is {r['status']}")
                continue
            try:
                got = blob_sha(r["storage_key"])
            except OSError as e:
                STATS.violation(f"media {vid}: {e}")
                continue
            if got != r["sha256"] or got not in shas:
                STATS.violation(f"media {vid}: blob sha256 {got}, row {r['sha256']}")
                continue
            if vid in LEDGER.videos:
                if got != LEDGER.videos[vid][0]:
                    STATS.violation(f"media {vid}: blob is another file than the one uploaded")
                else:
                    STATS.inc("acknowledged videos whose blob file hashes right")
            else:
                STATS.inc("unacknowledged videos (answer lost to a kill), intact")
        for vid, (sha, how) in LEDGER.videos.items():
            if vid not in rows:
                STATS.violation(f"{how} {vid} was acknowledged but has no media row")

        # tus rows.
        for path, vid in LEDGER.tus_done.items():
            up = q("SELECT status, video_id FROM uploads WHERE upload_id = ?", path.rsplit("/", 1)[1])
            if not up or up[0]["status"] != "completed" or up[0]["video_id"] != vid:
                STATS.violation(f"tus {path}: upload row {dict(up[0]) if up else None}, expected completed {vid}")
        for r in q("SELECT status, COUNT(*) AS n FROM uploads GROUP BY status"):
            STATS.counts[f"upload rows {r['status']}"] = r["n"]

        # Jobs: every one succeeded, none open, each finished once.
        jobs = q("SELECT job_id, kind, status, attempts, max_attempts, error, processing_id FROM jobs")
        STATS.counts["jobs"] = len(jobs)
        finished = collections.Counter(r["job_id"] for r in q(
            "SELECT job_id FROM processing_logs WHERE message = 'finished'"))
        started = collections.Counter(r["job_id"] for r in q(
            "SELECT job_id FROM processing_logs WHERE message = 'started'"))
        succeeded_events = collections.Counter(r["job_id"] for r in q(
            "SELECT job_id FROM job_events WHERE type = 'status' AND json_extract(data, '$.status') = 'succeeded'"))
        runs = {r["processing_id"]: r["status"] for r in q("SELECT processing_id, status FROM video_processing")}
        by_kind = collections.Counter()
        for j in jobs:
            jid = j["job_id"]
            by_kind[j["kind"]] += 1
            if j["status"] != "succeeded":
                STATS.violation(f"job {jid} ({j['kind']}) is {j['status']} after {j['attempts']} attempt(s): "
                                f"{(j['error'] or '')[:300]}")
                continue
            if finished[jid] != 1:
                STATS.violation(f"job {jid} ({j['kind']}) logged 'finished' {finished[jid]} times")
            if started[jid] != j["attempts"]:
                STATS.violation(f"job {jid} ({j['kind']}) logged 'started' {started[jid]} times, attempts "
                                f"{j['attempts']}")
            if succeeded_events[jid] != 1:
                STATS.violation(f"job {jid} ({j['kind']}) has {succeeded_events[jid]} 'succeeded' events")
            if j["processing_id"] and runs.get(j["processing_id"]) != "succeeded":
                STATS.violation(f"job {jid} succeeded but its run {j['processing_id']} is "
                                f"{runs.get(j['processing_id'])}")
            if j["attempts"] > 1:
                STATS.inc("jobs run again after a kill (attempts > 1), succeeded once")
            else:
                STATS.inc("jobs succeeded on the first attempt")
        for kind, n in sorted(by_kind.items()):
            STATS.counts[f"jobs {kind}"] = n

        # No duplicated results from a re-run.
        for sql, what in [
            ("SELECT processing_id, scene_no, COUNT(*) n FROM scene_index GROUP BY 1, 2 HAVING n > 1", "scene rows"),
            ("SELECT processing_id, ts_s, COUNT(*) n FROM frames GROUP BY 1, 2 HAVING n > 1", "frame rows"),
            ("SELECT processing_id, COUNT(*) n FROM transcriptions GROUP BY 1 HAVING n > 1", "transcriptions"),
            ("SELECT processing_id, start_s, end_s, COUNT(*) n FROM clip_candidates GROUP BY 1, 2, 3 HAVING n > 1",
             "clip candidates"),
            ("SELECT processing_id, COUNT(*) n FROM retention_analyses GROUP BY 1 HAVING n > 1",
             "retention analyses"),
            ("SELECT job_id, COUNT(*) n FROM edit_jobs WHERE job_id IS NOT NULL GROUP BY 1 HAVING n > 1",
             "edit jobs"),
        ]:
            dup = q(sql)
            if dup:
                STATS.violation(f"{len(dup)} duplicated {what}, e.g. {dict(dup[0])}")
        # Each render job has its own output, and it exists.
        for r in q("SELECT e.edit_job_id, e.status, e.output_asset_id, a.storage_key FROM edit_jobs e "
                   "LEFT JOIN video_assets a ON a.asset_id = e.output_asset_id"):
            if r["status"] != "succeeded" or not r["storage_key"] or \
                    not os.path.exists(os.path.join(blobs, r["storage_key"])):
                STATS.violation(f"edit job {r['edit_job_id']}: {r['status']}, output {r['storage_key']}")
            else:
                STATS.inc("renders with their output file")
        outs = q("SELECT output_asset_id, COUNT(*) n FROM edit_jobs WHERE output_asset_id IS NOT NULL "
                 "GROUP BY 1 HAVING n > 1")
        if outs:
            STATS.violation(f"{len(outs)} render outputs shared by several edit jobs")
        # Thumbnails: queued after each ingest, outside the ingest's transaction.
        missing = q("SELECT m.video_id FROM media m WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE "
                    "j.video_id = m.video_id AND j.kind = 'thumbnails')")
        if missing:
            STATS.note(f"{len(missing)} video(s) without a thumbnails job (killed between the ingest and "
                       f"queueing its thumbnails), e.g. {missing[0]['video_id']}")
            STATS.counts["videos without a thumbnails job (note)"] = len(missing)
        con.close()

    def fsck(self):
        base = [self.args.binary, "fsck", "--data-dir", self.args.data, "--grace-s", "0"]
        env = self.server.env
        first = subprocess.run(base, capture_output=True, text=True, env=env)
        out = first.stdout + first.stderr
        with open(os.path.join(self.args.work, "fsck.txt"), "w") as f:
            f.write(out)

        def count(label):
            m = re.search(r"(?:ok|problem): (\d+) " + re.escape(label), out)
            return int(m.group(1)) if m else None

        found = {
            "orphan blob(s)": count("orphan blob(s)"),
            "stale staged write(s)": count("stale staged write(s)"),
            "media whose source file is missing": count("media whose source file is missing"),
            "asset row(s) whose file is missing": count("asset row(s) whose file is missing"),
            "upload file(s) of no active tus upload": count("upload file(s) of no active tus upload"),
        }
        if any(v is None for v in found.values()) or "is damaged" in out:
            STATS.violation("fsck output not understood or database damaged:\n" + out)
            return
        for k, v in found.items():
            STATS.counts[f"fsck: {k}"] = v
        # Rows whose file is gone are lost data: violations. Orphan blobs,
        # staged writes and tus files of finished uploads are what a kill
        # between writing a file and its row leaves by design; fsck --repair
        # removes them (checked below).
        for k in ("media whose source file is missing", "asset row(s) whose file is missing"):
            if found[k]:
                STATS.violation(f"fsck: {found[k]} {k}")
        parts = re.findall(r"^  (\S+\.part)$", out, re.M)
        if parts:
            STATS.note(f"{len(parts)} tus file(s) of no active upload: " + ", ".join(os.path.basename(p) for p in parts[:3]))
        orphan_keys = re.findall(r"^  (\S+) \(\d+ bytes\)$", out, re.M)
        srcs = [k for k in orphan_keys if k.endswith("/source") and not k.startswith(".staging")]
        if srcs:
            STATS.note(f"{len(srcs)} orphan source blob(s) (uploads killed between the blob and the row): "
                       + ", ".join(srcs[:3]))
        if first.returncode != 0:
            rep = subprocess.run(base[:2] + ["--repair"] + base[2:], capture_output=True, text=True, env=env)
            again = subprocess.run(base, capture_output=True, text=True, env=env)
            if rep.returncode != 0 or again.returncode != 0:
                STATS.violation("fsck --repair did not leave a clean install:\n" + rep.stdout + again.stdout)
            else:
                STATS.counts["fsck clean after --repair"] = 1
        else:
            STATS.counts["fsck clean"] = 1

    def report(self):
        print()
        a = self.args
        print(f"cutroom crash soak: {a.duration_s:.0f} s, {a.tus_clients} tus + {a.multipart_clients} multipart + "
              f"{a.job_clients} job clients, {len(self.kills)} kill -9, seed {a.seed}, lease {a.lease_ms} ms, "
              f"{len(self.media)} media files")
        print()
        print(f"{'kill':>4} {'at s':>7} {'bodies in flight':>17} {'jobs running':>13} {'down+restart s':>15}")
        for i, (at, bodies, running, down) in enumerate(self.kills, 1):
            print(f"{i:>4} {at:>7.1f} {bodies:>17} {running:>13} {down:>15.2f}")
        print()
        width = max(len(k) for k in STATS.counts) + 2
        for k in sorted(STATS.counts):
            print(f"{k:<{width}} {STATS.counts[k]:>7}")
        if STATS.notes:
            print("\nnotes:")
            for n in STATS.notes:
                print("  " + n)
        print()
        if STATS.violations:
            print(f"FAIL: {len(STATS.violations)} violation(s):")
            for v in STATS.violations[:50]:
                print("  " + v)
            return 1
        print("PASS: no violations")
        return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--binary", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--media", nargs="+", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--duration-s", type=float, default=120)
    p.add_argument("--kills", type=int, default=5)
    p.add_argument("--tus-clients", type=int, default=8)
    p.add_argument("--multipart-clients", type=int, default=6)
    p.add_argument("--job-clients", type=int, default=6)
    p.add_argument("--lease-ms", type=int, default=5000)
    p.add_argument("--workers", type=int, default=0)
    p.add_argument("--rate-kbps", type=float, default=1000, help="each client's upload rate, kB/s (0: unthrottled)")
    p.add_argument("--pause", type=float, nargs=2, default=[0.5, 2.0])
    p.add_argument("--job-timeout-s", type=float, default=120)
    p.add_argument("--drain-s", type=float, default=300)
    p.add_argument("--seed", type=int, default=None)
    args = p.parse_args()
    if args.seed is None:
        args.seed = random.randrange(1 << 30)
    args.data = os.path.join(args.work, "data")
    media = [Media(m) for m in args.media]
    soak = Soak(args, media)
    try:
        soak.run()
    finally:
        if soak.server.proc and soak.server.proc.poll() is None:
            soak.server.proc.kill()
            soak.server.proc.wait()
    sys.exit(soak.report())


if __name__ == "__main__":
    main()
