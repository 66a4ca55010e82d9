// Serving glue for the Node.js receivers, as tests/gallery/_serve.py is for the Python ones:
// what a deployment would do (bind loopback on --port, 0 for any free one), plus the
// `LISTENING <url>` line the tests wait for. Nothing here knows of the harness.
'use strict';

const http = require('node:http');
const { parseArgs } = require('node:util');

// A node:http server that hands each POST to `path` to `handle(req, rawBody, res)` once its
// body is read (404 for anything else), listening on --port.
function serve(path, handle) {
  const server = http.createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== path) {
      res.writeHead(404).end();
      return;
    }
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => handle(req, Buffer.concat(chunks), res));
  });
  const { values } = parseArgs({ options: { port: { type: 'string', default: '8000' } } });
  server.listen(Number(values.port), '127.0.0.1', () => {
    console.log(`LISTENING http://127.0.0.1:${server.address().port}`);
  });
  return server;
}

module.exports = { serve };
