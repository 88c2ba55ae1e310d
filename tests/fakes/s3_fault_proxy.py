#!/usr/bin/env python3
"""An S3 front for the storage tests: starts s3rver (npm) and stands between
it and cutroom, Python standard library only.

Why a proxy and not s3rver alone:
  * s3rver accepts any SigV4 signature (it never checks V4), so this proxy
    verifies every request's signature and payload hash itself, computed from
    the request as received, following AWS's rules independently of
    cutroom's signer. A wrong secret is refused with 403 SignatureDoesNotMatch,
    as AWS would.
  * s3rver 3 has no AbortMultipartUpload and no ListMultipartUploads; the proxy
    answers both from s3rver's own upload folders (<dir>/<bucket>/._S3rver_uploads),
    so a test can see whether parts were left behind.
  * Faults: POST /__fault?op=UploadPart&status=500&times=1 makes the next
    matching request(s) fail (status=0 drops the connection without a reply);
    GET /__stats answers {"op": count} of the S3 requests seen; POST /__reset
    clears both.

Usage: s3_fault_proxy.py --s3rver PATH --dir DIR --bucket NAME
           [--access-key K --secret-key S]
Prints "PORT <n>" once both listen; exits (and stops s3rver) on SIGTERM.
"""
import argparse
import ctypes
import hashlib
import hmac
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARGS = None
UPSTREAM_PORT = 0
LOCK = threading.Lock()
FAULTS = []  # [{"op", "status", "times"}]
STATS = {}


def classify(method, path, query):
    parts = path.lstrip("/").split("/", 1)
    has_key = len(parts) == 2 and parts[1] != ""
    if method == "PUT" and "partNumber" in query:
        return "UploadPart"
    if method == "POST" and "uploads" in query:
        return "CreateMultipartUpload"
    if method == "POST" and "uploadId" in query:
        return "CompleteMultipartUpload"
    if method == "DELETE" and "uploadId" in query:
        return "AbortMultipartUpload"
    if method == "GET" and not has_key and "uploads" in query:
        return "ListMultipartUploads"
    if method == "GET" and not has_key:
        return "ListObjects"
    if method == "HEAD":
        return "HeadObject" if has_key else "HeadBucket"
    return {"GET": "GetObject", "PUT": "PutObject", "DELETE": "DeleteObject"}.get(method, method)


def uri_encode(s, keep_slash):
    safe = "-_.~" + ("/" if keep_slash else "")
    return urllib.parse.quote(s, safe=safe)


def verify_signature(method, raw_path, headers, body):
    """None when the request is correctly signed, else (status, code, message)."""
    auth = headers.get("authorization")
    if auth is None:
        return (403, "AccessDenied", "anonymous requests are refused")
    m = re.match(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/s3/aws4_request,\s*"
                 r"SignedHeaders=([^,]+),\s*Signature=([0-9a-f]{64})$", auth)
    if not m:
        return (400, "AuthorizationHeaderMalformed", "cannot parse " + auth)
    access_key, date, region, signed, signature = m.groups()
    if access_key != ARGS.access_key:
        return None  # s3rver answers InvalidAccessKeyId itself
    payload = headers.get("x-amz-content-sha256", "")
    if payload != "UNSIGNED-PAYLOAD" and payload != hashlib.sha256(body).hexdigest():
        return (400, "XAmzContentSHA256Mismatch", "the body does not match x-amz-content-sha256")
    amz_date = headers.get("x-amz-date", "")
    if amz_date[:8] != date:
        return (403, "SignatureDoesNotMatch", "x-amz-date and the credential scope disagree")
    path, _, query = raw_path.partition("?")
    canonical_uri = uri_encode(urllib.parse.unquote(path), True)
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    canonical_query = "&".join(sorted(uri_encode(k, False) + "=" + uri_encode(v, False) for k, v in pairs))
    names = signed.split(";")
    for required in ("host", "x-amz-date", "x-amz-content-sha256"):
        if required not in names:
            return (403, "AccessDenied", required + " is not signed")
    canonical_headers = ""
    for name in names:
        value = headers.get(name)
        if value is None:
            return (403, "SignatureDoesNotMatch", "signed header " + name + " is missing")
        canonical_headers += name + ":" + " ".join(value.split()) + "\n"
    creq = "\n".join([method, canonical_uri, canonical_query, canonical_headers, signed, payload])
    scope = date + "/" + region + "/s3/aws4_request"
    to_sign = "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n" + hashlib.sha256(creq.encode()).hexdigest()
    key = ("AWS4" + ARGS.secret_key).encode()
    for part in (date, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        return (403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature "
                "you provided. Canonical request: " + creq.replace("\n", "|"))
    return None


def uploads_dir(bucket):
    return os.path.join(ARGS.dir, bucket, "._S3rver_uploads")


def xml_error(code, message):
    return ('<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>'
            % (code, message.replace("&", "&amp;").replace("<", "&lt;"))).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def control(self, path, query):
        q = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        with LOCK:
            if path == "/__fault":
                FAULTS.append({"op": q["op"], "status": int(q.get("status", "500")), "times": int(q.get("times", "1"))})
            elif path == "/__reset":
                FAULTS.clear()
                STATS.clear()
            body = json.dumps(STATS).encode()
        self.reply(200, body, {"Content-Type": "application/json"})

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        if path.startswith("/__"):
            return self.control(path, query)
        q = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        op = classify(self.command, path, q)
        with LOCK:
            STATS[op] = STATS.get(op, 0) + 1
            fault = next((f for f in FAULTS if f["op"] == op and f["times"] > 0), None)
            if fault:
                fault["times"] -= 1
        if fault:
            if fault["status"] == 0:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            return self.reply(fault["status"], xml_error("InternalError", "injected fault"),
                              {"Content-Type": "application/xml"})
        headers = {k.lower(): v for k, v in self.headers.items()}
        bad = verify_signature(self.command, self.path, headers, body)
        if bad:
            return self.reply(bad[0], xml_error(bad[1], bad[2]), {"Content-Type": "application/xml"})
        bucket = path.lstrip("/").split("/", 1)[0]
        if op == "AbortMultipartUpload":
            d = os.path.join(uploads_dir(bucket), os.path.basename(q["uploadId"]))
            if not os.path.isdir(d):
                return self.reply(404, xml_error("NoSuchUpload", "no such upload"), {"Content-Type": "application/xml"})
            shutil.rmtree(d)
            return self.reply(204)
        if op == "ListMultipartUploads":
            return self.list_uploads(bucket, q.get("prefix", ""))
        self.forward(body)

    def list_uploads(self, bucket, prefix):
        out = ['<?xml version="1.0" encoding="UTF-8"?><ListMultipartUploadsResult><Bucket>%s</Bucket>' % bucket]
        d = uploads_dir(bucket)
        for upload_id in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            try:
                with open(os.path.join(d, upload_id, "key")) as f:
                    key = f.read()
            except OSError:
                continue
            if not key.startswith(prefix):
                continue
            initiated = time.strftime("%Y-%m-%dT%H:%M:%S.000Z",
                                      time.gmtime(os.path.getmtime(os.path.join(d, upload_id))))
            out.append("<Upload><Key>%s</Key><UploadId>%s</UploadId><Initiated>%s</Initiated></Upload>"
                       % (key, upload_id, initiated))
        out.append("<IsTruncated>false</IsTruncated></ListMultipartUploadsResult>")
        self.reply(200, "".join(out).encode(), {"Content-Type": "application/xml"})

    def forward(self, body):
        conn = http.client.HTTPConnection("127.0.0.1", UPSTREAM_PORT, timeout=120)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "expect")}
        try:
            conn.request(self.command, self.path, body=body if body or self.command in ("PUT", "POST") else None,
                         headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except OSError as e:
            return self.reply(502, xml_error("BadGateway", str(e)), {"Content-Type": "application/xml"})
        finally:
            conn.close()
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("connection", "keep-alive", "transfer-encoding", "content-length"):
                self.send_header(k, v)
        # HEAD keeps the object's length; other replies carry what was read.
        length = resp.getheader("Content-Length") if self.command == "HEAD" else str(len(data))
        self.send_header("Content-Length", length or "0")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


def start_s3rver():
    """Starts s3rver on a free loopback port; returns (process, port)."""
    def die_with_parent():
        # PR_SET_PDEATHSIG: s3rver goes when this proxy dies, even by SIGKILL.
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGTERM)
    # s3rver's ListObjectsV2 continuation tokens use DES, which OpenSSL 3
    # keeps in its legacy provider.
    env = dict(os.environ, NODE_OPTIONS="--openssl-legacy-provider")
    proc = subprocess.Popen(
        [ARGS.s3rver, "-d", ARGS.dir, "-a", "127.0.0.1", "-p", "0", "--configure-bucket", ARGS.bucket],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, preexec_fn=die_with_parent, env=env)
    deadline = time.time() + 30
    while time.time() < deadline:
        line = proc.stdout.readline().decode(errors="replace")
        if not line:
            break
        m = re.search(r"listening on [0-9.]+:(\d+)", line)
        if m:
            # Keep draining its log so s3rver never blocks on a full pipe.
            threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
            return proc, int(m.group(1))
    proc.kill()
    sys.exit("s3rver did not start")


def main():
    global ARGS, UPSTREAM_PORT
    p = argparse.ArgumentParser()
    p.add_argument("--s3rver", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--bucket", required=True)
    p.add_argument("--access-key", default="S3RVER")
    p.add_argument("--secret-key", default="S3RVER")
    ARGS = p.parse_args()
    proc, UPSTREAM_PORT = start_s3rver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True

    def stop(*_):
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    print("PORT %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    finally:
        stop()


if __name__ == "__main__":
    main()
