#!/usr/bin/env python3
"""A local stand-in for VideoDB's REST API (https://api.videodb.io), for
cutroom's tests. Python 3 standard library only; never talks to the network
except to fetch a media URL it is asked to upload (as VideoDB would).

Start: videodb_server.py [--port 0] [--key KEY ...] [--quota-key KEY]
It prints "PORT <n>" on its first stdout line once it listens.

Endpoints and shapes, each checked against the official SDKs (videodb-python
`videodb/...`, videodb-node `src/...`):
  every request         header x-access-token; a key not in --key answers 401
                        {"success": false, "message"} (python _utils/_http_client.py
                        _handle_request_error reads "message"; node utils/httpClient.ts
                        maps 401 to AuthenticationError). The --quota-key answers POSTs
                        with 402 {"success": false, "message": "...quota..."}.
  envelope              {"success": true, "data": ...}; a long task answers
                        {"success": true, "status": "processing", "request_type": "sync",
                        "data": {"id", "output_url"}} (python _http_client.py _parse_response;
                        node types/response.ts ResponseOf, SyncJobResponse)
  GET  /async-response/{id}
                        {"status": "processing", "data": {"percentage"}} until done, then
                        {"success": true, "status": "done", "response": {"success": true, "data"}}
                        or {"success": false, "status": "failed", "message"}
                        (python _http_client.py _get_output; node utils/job.ts _initiateBackoff)
  GET  /collection/{c}/upload_url?name=      -> data.upload_url
                        (python _upload.py upload_bytes; node utils/upload.ts getUploadUrl)
  POST /_upload/{token} multipart "file"     -> 200 (the signed URL; python _upload.py posts
                        files={"file": (name, f)} without the API key)
  POST /collection/{c}/upload {url, name, media_type} -> async -> video
                        {id, collection_id, name, length, size, stream_url, player_url, thumbnail_url}
                        (python _upload.py upload, collection.py; node utils/job.ts UploadJob,
                        types/response.ts VideoResponse)
  POST /video/{id}/index {index_type: "spoken_word", language_code, segmentation_type, force}
                        -> async; a second time: 400 "... already exists"
                        (python video.py index_spoken_words, _constants.py IndexType;
                        node core/video.ts indexSpokenWords)
  GET  /video/{id}/transcription?segmenter=word&length=1&force=
                        -> data {word_timestamps: [{start, end, text}], text} (async the first time)
                        (python video.py _fetch_transcript; node core/video.ts getTranscript)
  POST /video/{id}/scenes {extraction_type: "shot"|"time", extraction_config, force}
                        -> async -> {scene_collection: {scene_collection_id, config, scenes:
                        [{scene_id, start, end, description, frames: [{frame_id, url, frame_time,
                        description}]}]}} (python video.py extract_scenes,
                        _format_scene_collection; node core/video.ts extractScenes)
  POST /video/{id}/index/scene {extraction_type, extraction_config, prompt, name}
                        -> async (slow: scene_index_delay_s) -> {scene_index_id}
  GET  /video/{id}/index/scene/{index_id} -> data.scene_index_records [{start, end, description}]
                        (python video.py index_scenes, get_scene_index; node core/video.ts
                        indexScenes, getSceneIndex)
  POST /video/{id}/search {query, search_type, index_type, result_threshold, score_threshold,
                        scene_index_id} -> data.results [{video_id, collection_id, length, title,
                        docs: [{start, end, text, score}]}]; 400 when the index is missing
                        (python video.py legacy_search, search.py SearchResult;
                        node core/search/index.ts, types/response.ts SearchResponse)
  DELETE /video/{id}    -> {"success": true} (python video.py delete; node core/video.ts delete)
Paths are accepted with or without a trailing slash (the Node SDK adds one).

Test controls (not VideoDB's):
  POST /_fake/config {...}  merges settings: fail_upload (signed-upload POSTs that answer 500),
                            fail_next {"prefix", "status", "count"} (API requests whose path starts
                            with prefix answer status), task_delay_s, scene_index_delay_s,
                            transcript [{start, end, text}], fail_task (a task kind that finishes
                            failed: upload|index|scenes|scene_index)
  GET  /_fake/requests      every request seen: {method, path, query, key, content_type, body,
                            upload: {field, filename, size}}
  GET  /_fake/frames/{video}/{n}.png  a small PNG (the frame URLs scenes point at)
"""

import argparse
import json
import re
import struct
import sys
import threading
import time
import urllib.parse
import urllib.request
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATE = {
    "config": {
        "fail_upload": 0,
        "fail_next": None,
        "task_delay_s": 0.2,
        "scene_index_delay_s": 0.5,
        "fail_task": "",
        "transcript": [
            {"start": 0.50, "end": 0.80, "text": "Welcome"},
            {"start": 0.80, "end": 1.00, "text": "to"},
            {"start": 1.00, "end": 1.60, "text": "cutroom."},
            {"start": 1.70, "end": 1.90, "text": "This"},
            {"start": 1.90, "end": 2.10, "text": "is"},
            {"start": 2.10, "end": 2.20, "text": "a"},
            {"start": 2.20, "end": 2.70, "text": "test"},
            {"start": 2.70, "end": 3.20, "text": "video"},
            {"start": 3.20, "end": 3.30, "text": "-"},
            {"start": 5.00, "end": 5.40, "text": "after"},
            {"start": 5.40, "end": 5.50, "text": "a"},
            {"start": 5.50, "end": 6.00, "text": "pause"},
            {"start": 6.00, "end": 6.30, "text": "we"},
            {"start": 6.30, "end": 6.70, "text": "talk"},
            {"start": 6.70, "end": 7.00, "text": "about"},
            {"start": 7.00, "end": 7.60, "text": "rockets!"},
            {"start": 7.80, "end": 8.10, "text": "Really"},
            {"start": 8.10, "end": 8.60, "text": "fast"},
            {"start": 8.60, "end": 9.20, "text": "rockets."},
        ],
    },
    "requests": [],
    "uploads": {},   # token -> {"size", "length"}
    "videos": {},    # id -> video dict + "_spoken", "_transcribed", "_scene_indexes"
    "tasks": {},     # id -> {"ready_at", "kind", "result" (data) or "error"}
    "counter": 0,
}
KEYS = set()
QUOTA_KEY = None
BASE = ""


def next_id(prefix):
    STATE["counter"] += 1
    return "%s-%05d" % (prefix, STATE["counter"])


def mp4_duration(data):
    """Duration from the moov/mvhd box, or 0."""
    def boxes(buf, start, end):
        i = start
        while i + 8 <= end:
            size, kind = struct.unpack(">I4s", buf[i:i + 8])
            header = 8
            if size == 1 and i + 16 <= end:
                size = struct.unpack(">Q", buf[i + 8:i + 16])[0]
                header = 16
            elif size == 0:
                size = end - i
            if size < header:
                return
            yield kind, i + header, min(i + size, end)
            i += size
    for kind, s, e in boxes(data, 0, len(data)):
        if kind == b"moov":
            for k2, s2, e2 in boxes(data, s, e):
                if k2 == b"mvhd":
                    version = data[s2]
                    if version == 1:
                        timescale, duration = struct.unpack(">IQ", data[s2 + 20:s2 + 32])
                    else:
                        timescale, duration = struct.unpack(">II", data[s2 + 12:s2 + 20])
                    return duration / timescale if timescale else 0
    return 0


def png(width, height, rgb):
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    def chunk(kind, payload):
        c = struct.pack(">I", len(payload)) + kind + payload
        return c + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def parse_multipart(body, content_type):
    m = re.search(r'boundary="?([^";]+)"?', content_type or "")
    if not m:
        return None
    boundary = b"--" + m.group(1).encode()
    for part in body.split(boundary):
        head, sep, content = part.partition(b"\r\n\r\n")
        if not sep:
            continue
        disposition = head.decode("latin-1")
        name = re.search(r'name="([^"]*)"', disposition)
        filename = re.search(r'filename="([^"]*)"', disposition)
        if content.endswith(b"\r\n"):
            content = content[:-2]
        if name:
            return {"field": name.group(1), "filename": filename.group(1) if filename else None, "data": content}
    return None


def word_text(w):
    # The Python SDK documents "text", the Node SDK's types say "word".
    return w.get("text", w.get("word", ""))


def transcript_sentences(words):
    """The transcript's sentences with times, for search."""
    words = [dict(w, text=word_text(w), start=float(w["start"]), end=float(w["end"])) for w in words]
    out, cur = [], []
    for w in words:
        if w["text"] == "-":
            continue
        cur.append(w)
        if w["text"][-1:] in ".?!":
            out.append(cur)
            cur = []
    if cur:
        out.append(cur)
    return [{"start": s[0]["start"], "end": s[-1]["end"], "text": " ".join(w["text"] for w in s)} for s in out]


def scenes_for(video, extraction_type, config):
    length = video.get("length") or 0.0
    frame_count = int(config.get("frame_count") or 1)
    if extraction_type == "time":
        step = float(config.get("time") or 10)
        bounds, t = [], 0.0
        while t < length - 1e-6:
            bounds.append((t, min(length, t + step)))
            t += step
    else:
        # A shot detector stand-in: the higher the threshold, the fewer shots.
        threshold = float(config.get("threshold") or 20)
        n = max(1, min(8, int(round(60.0 / max(threshold, 1.0)))))
        bounds = [(length * i / n, length * (i + 1) / n) for i in range(n)]
    scenes = []
    for i, (s, e) in enumerate(bounds):
        frames = []
        for k in range(frame_count):
            ft = round(s + (e - s) * (k + 0.5) / frame_count, 3)
            fid = "%s-s%d-f%d" % (video["id"], i, k)
            frames.append({"frame_id": fid, "url": "%s/_fake/frames/%s/%d.png" % (BASE, video["id"], i * 10 + k),
                           "frame_time": ft, "description": None})
        scenes.append({"scene_id": "%s-s%d" % (video["id"], i), "start": round(s, 3), "end": round(e, 3),
                       "description": None, "metadata": {}, "frames": frames})
    return scenes


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, obj, content_type="application/json"):
        body = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def ok(self, data):
        self.reply(200, {"success": True, "data": data})

    def refuse(self, status, message):
        self.reply(status, {"success": False, "message": message})

    def task(self, kind, result, delay=None):
        tid = next_id("job")
        cfg = STATE["config"]
        ready = time.monotonic() + (cfg["task_delay_s"] if delay is None else delay)
        entry = {"ready_at": ready, "kind": kind}
        if cfg.get("fail_task") == kind:
            entry["error"] = "%s failed on VideoDB's side (simulated)" % kind
        elif isinstance(result, Exception):
            entry["error"] = str(result)
        else:
            entry["result"] = result
        STATE["tasks"][tid] = entry
        self.reply(200, {"success": True, "status": "processing", "request_type": "sync",
                         "data": {"id": tid, "output_url": "%s/async-response/%s" % (BASE, tid)}})

    def handle_any(self, method):
        url = urllib.parse.urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        query = dict(urllib.parse.parse_qsl(url.query))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        content_type = self.headers.get("Content-Type", "")
        body, upload = None, None
        if content_type.startswith("application/json") and raw:
            try:
                body = json.loads(raw)
            except ValueError:
                return self.refuse(400, "Invalid JSON body")
        elif content_type.startswith("multipart/form-data"):
            part = parse_multipart(raw, content_type)
            if part:
                upload = {"field": part["field"], "filename": part["filename"], "size": len(part["data"])}
        key = self.headers.get("x-access-token")
        with LOCK:
            if not path.startswith("/_fake/"):
                STATE["requests"].append({"method": method, "path": path, "query": query, "key": key,
                                          "content_type": content_type, "body": body, "upload": upload})
            return self.route(method, path, query, key, body, raw, content_type)

    def route(self, method, path, query, key, body, raw, content_type):
        cfg = STATE["config"]
        parts = path.strip("/").split("/")
        # Test controls.
        if path == "/_fake/config" and method == "POST":
            cfg.update(body or {})
            return self.ok(cfg)
        if path == "/_fake/requests":
            return self.ok(STATE["requests"])
        if parts[:2] == ["_fake", "frames"] and len(parts) == 4:
            n = int(parts[3].split(".")[0])
            return self.reply(200, png(32, 18, ((n * 40) % 256, 90, 160)), "image/png")
        # The signed upload URL: its token is the credential.
        if parts[0] == "_upload" and len(parts) == 2 and method == "POST":
            if parts[1] not in STATE["uploads"]:
                return self.reply(403, b"<Error>AccessDenied</Error>", "application/xml")
            if cfg["fail_upload"] > 0:
                cfg["fail_upload"] -= 1
                return self.reply(500, b"<Error>InternalError</Error>", "application/xml")
            part = parse_multipart(raw, content_type)
            if not part or part["field"] != "file":
                return self.reply(400, b"<Error>MalformedPOSTRequest</Error>", "application/xml")
            STATE["uploads"][parts[1]] = {"size": len(part["data"]), "length": mp4_duration(part["data"]),
                                          "name": part["filename"]}
            return self.reply(204, b"", "text/plain")
        # The API proper.
        if key not in KEYS and key != QUOTA_KEY:
            return self.refuse(401, "Invalid API key")
        fail = cfg.get("fail_next")
        if fail and fail.get("count", 0) > 0 and path.startswith(fail.get("prefix", "/")):
            fail["count"] -= 1
            return self.refuse(int(fail.get("status", 503)), "Service temporarily unavailable (simulated)")
        if key == QUOTA_KEY and method == "POST":
            return self.refuse(402, "Quota exceeded: this account has no credits left")
        if parts[0] == "async-response" and len(parts) == 2:
            t = STATE["tasks"].get(parts[1])
            if not t:
                return self.refuse(404, "No such job")
            if time.monotonic() < t["ready_at"]:
                return self.reply(200, {"status": "processing", "data": {"percentage": 50}})
            if "error" in t:
                return self.reply(200, {"success": False, "status": "failed", "message": t["error"]})
            return self.reply(200, {"success": True, "status": "done",
                                    "response": {"success": True, "data": t["result"]}})
        if parts[0] == "collection" and len(parts) == 3 and parts[2] == "upload_url" and method == "GET":
            token = next_id("up")
            STATE["uploads"][token] = None
            return self.ok({"upload_url": "%s/_upload/%s?X-Signature=%s" % (BASE, token, token[::-1])})
        if parts[0] == "collection" and len(parts) == 3 and parts[2] == "upload" and method == "POST":
            return self.register(parts[1], body or {})
        if parts[0] == "video" and len(parts) >= 2:
            video = STATE["videos"].get(parts[1])
            if not video:
                return self.refuse(404, "Video not found")
            rest = parts[2:]
            if not rest and method == "DELETE":
                del STATE["videos"][parts[1]]
                return self.reply(200, {"success": True})
            if rest == ["index"] and method == "POST":
                if (body or {}).get("index_type") != "spoken_word":
                    return self.refuse(400, "Unsupported index_type")
                if video["_spoken"] and not (body or {}).get("force"):
                    return self.refuse(400, "Spoken word index for video already exists")
                video["_spoken"] = True
                video["_transcribed"] = True
                return self.task("index", {"success": True})
            if rest == ["transcription"] and method == "GET":
                data = {"word_timestamps": cfg["transcript"],
                        "text": " ".join(word_text(w) for w in cfg["transcript"] if word_text(w) != "-")}
                if not video["_transcribed"]:
                    video["_transcribed"] = True
                    return self.task("transcription", data)
                return self.ok(data)
            if rest == ["scenes"] and method == "POST":
                b = body or {}
                etype = b.get("extraction_type")
                if etype not in ("shot", "time"):
                    return self.refuse(400, "Invalid extraction_type")
                sc = {"scene_collection_id": next_id("sc"), "config": b.get("extraction_config") or {},
                      "scenes": scenes_for(video, etype, b.get("extraction_config") or {})}
                return self.task("scenes", {"scene_collection": sc})
            if rest == ["index", "scene"] and method == "POST":
                b = body or {}
                etype = b.get("extraction_type") or "shot"
                prompt = b.get("prompt") or "Describe the scene"
                records = []
                for i, s in enumerate(scenes_for(video, etype, b.get("extraction_config") or {})):
                    records.append({"start": s["start"], "end": s["end"],
                                    "description": "Scene %d of %s: a rocket on a launch pad (%s)." %
                                                   (i + 1, video["name"], prompt[:40])})
                index_id = next_id("si")
                video["_scene_indexes"][index_id] = records
                return self.task("scene_index", {"scene_index_id": index_id}, cfg["scene_index_delay_s"])
            if len(rest) == 3 and rest[:2] == ["index", "scene"] and method == "GET":
                records = video["_scene_indexes"].get(rest[2])
                if records is None:
                    return self.refuse(404, "Scene index not found")
                return self.ok({"scene_index_records": records})
            if rest == ["search"] and method == "POST":
                return self.search(video, body or {})
        return self.refuse(404, "Not found: %s %s" % (method, path))

    def register(self, collection, b):
        url = b.get("url")
        if not url:
            return self.refuse(400, "url is required")
        name = b.get("name") or "video"
        vid = next_id("m")
        m = re.match(r"^%s/_upload/([^?]+)" % re.escape(BASE), url)
        if m:
            up = STATE["uploads"].get(m.group(1))
            if not up:
                return self.task("upload", Exception("Upload URL was never uploaded to"))
            length, size = up["length"], up["size"]
        else:
            # VideoDB downloads a URL itself.
            try:
                with urllib.request.urlopen(url, timeout=10) as r:
                    data = r.read(200 * 1024 * 1024)
                length, size = mp4_duration(data), len(data)
            except Exception as e:  # noqa: BLE001 - any failure is the task's
                return self.task("upload", Exception("Could not download %s: %s" % (url, e)))
        video = {"id": vid, "collection_id": collection, "name": name, "description": b.get("description"),
                 "length": round(length, 3), "size": size, "stream_url": "%s/stream/%s.m3u8" % (BASE, vid),
                 "player_url": "%s/player/%s" % (BASE, vid), "thumbnail_url": None, "source_url": url}
        STATE["videos"][vid] = dict(video, _spoken=False, _transcribed=False, _scene_indexes={})
        return self.task("upload", video)

    def search(self, video, b):
        query = (b.get("query") or "").lower()
        index_type = b.get("index_type") or "spoken_word"
        search_type = b.get("search_type") or "semantic"
        if index_type == "spoken_word":
            if not video["_spoken"]:
                return self.refuse(400, "Spoken word index not found for this video; index it first")
            docs = transcript_sentences(STATE["config"]["transcript"])
        elif index_type == "scene":
            records = video["_scene_indexes"].get(b.get("scene_index_id")) if b.get("scene_index_id") else None
            if records is None and video["_scene_indexes"]:
                records = list(video["_scene_indexes"].values())[-1]
            if records is None:
                return self.refuse(400, "Scene index not found for this video")
            docs = [{"start": r["start"], "end": r["end"], "text": r["description"]} for r in records]
        else:
            return self.refuse(400, "Invalid index_type")
        terms = [t for t in re.findall(r"\w+", query)]
        hits = []
        for d in docs:
            text = d["text"].lower()
            if search_type == "keyword":
                if query and query in text:
                    hits.append(dict(d, score=1.0))
            else:
                words = set(re.findall(r"\w+", text))
                score = sum(1 for t in terms if t in words) / max(1, len(terms))
                if score >= float(b.get("score_threshold") or 0.2):
                    hits.append(dict(d, score=round(0.5 + score / 2, 3)))
        hits.sort(key=lambda h: -h["score"])
        hits = hits[:int(b.get("result_threshold") or 5)]
        results = []
        if hits:
            results.append({"video_id": video["id"], "collection_id": video["collection_id"],
                            "length": video["length"], "title": video["name"], "max_score": hits[0]["score"],
                            "stream_url": video["stream_url"], "docs": hits})
        return self.ok({"results": results})

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_DELETE(self):
        self.handle_any("DELETE")


def main():
    global QUOTA_KEY, BASE
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--key", action="append", default=[])
    ap.add_argument("--quota-key", default="quota-key")
    args = ap.parse_args()
    KEYS.update(args.key or ["test-key"])
    QUOTA_KEY = args.quota_key
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    BASE = "http://127.0.0.1:%d" % server.server_address[1]
    print("PORT %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
