// One timed tus upload with tus-js-client, reading the file as a stream.
//
//   node client.mjs --endpoint URL --file PATH [--chunk-mib N]
//
// --chunk-mib 0 (the default) sends the whole file in one PATCH. Prints one
// JSON line: {bytes, seconds, mb_per_s, patches, upload_url, video_id}
// where mb_per_s is decimal MB (1e6 bytes) per second and seconds runs from
// the creation POST to the response of the last PATCH.
import fs from 'node:fs';
import { parseArgs } from 'node:util';

import { Upload } from 'tus-js-client';

const { values } = parseArgs({
  options: {
    endpoint: { type: 'string' },
    file: { type: 'string' },
    'chunk-mib': { type: 'string', default: '0' },
  },
});
if (!values.endpoint || !values.file) {
  console.error('usage: node client.mjs --endpoint URL --file PATH [--chunk-mib N]');
  process.exit(2);
}

const chunkMib = Number(values['chunk-mib']);
const chunkSize = chunkMib > 0 ? chunkMib * 1024 * 1024 : Number.POSITIVE_INFINITY;
const { size } = fs.statSync(values.file);
let patches = 0;

const started = process.hrtime.bigint();
const result = await new Promise((resolve, reject) => {
  const upload = new Upload(fs.createReadStream(values.file), {
    endpoint: values.endpoint,
    chunkSize,
    retryDelays: null,
    metadata: { filename: values.file.split('/').pop(), filetype: 'video/x-matroska' },
    onBeforeRequest(req) {
      if (req.getMethod() === 'PATCH') patches += 1;
    },
    onSuccess: ({ lastResponse }) => resolve({ upload, lastResponse }),
    onError: reject,
  });
  upload.start();
}).catch((err) => {
  console.error(`upload failed: ${err.message}`);
  process.exit(1);
});
const seconds = Number(process.hrtime.bigint() - started) / 1e9;

console.log(
  JSON.stringify({
    bytes: size,
    seconds,
    mb_per_s: size / 1e6 / seconds,
    patches,
    upload_url: result.upload.url,
    video_id: result.lastResponse.getHeader('Cutroom-Video-Id') ?? null,
  }),
);
