// The peer for the upload benchmark: stock @tus/server + @tus/file-store on
// the same disk as cutroom's data dir.
//
//   node peer-server.mjs --port PORT --dir DIR [--host 127.0.0.1] [--fsync]
//
// tus endpoint: http://HOST:PORT/files/ ; GET /healthz answers 200.
// @tus/file-store never fsyncs; with --fsync the finished file is fsynced
// before the last PATCH is answered (closer to cutroom's durability, which
// fsyncs every PATCH). Stops on SIGTERM/SIGINT.
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { FileStore } from '@tus/file-store';
import { Server } from '@tus/server';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    dir: { type: 'string' },
    fsync: { type: 'boolean', default: false },
  },
});
if (!values.port || !values.dir) {
  console.error('usage: node peer-server.mjs --port PORT --dir DIR [--host H] [--fsync]');
  process.exit(2);
}
await fs.mkdir(values.dir, { recursive: true });

const tus = new Server({
  path: '/files',
  relativeLocation: true,
  datastore: new FileStore({ directory: values.dir }),
  async onUploadFinish(_req, upload) {
    if (values.fsync) {
      const fh = await fs.open(path.join(values.dir, upload.id), 'r+');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
    return {};
  },
});

const server = http.createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('ok\n');
    return;
  }
  tus.handle(req, res).catch((err) => {
    console.error(err);
    if (!res.headersSent) res.writeHead(500);
    res.end();
  });
});
// A 1 GiB single PATCH takes longer than Node's default request timeout allows.
server.requestTimeout = 0;
server.headersTimeout = 60_000;

server.listen(Number(values.port), values.host, () => {
  console.error(`@tus/server listening on http://${values.host}:${values.port}/files/ (dir ${values.dir}, fsync ${values.fsync})`);
});

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
