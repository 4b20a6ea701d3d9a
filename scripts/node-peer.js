// The hot path's peer for `make bench` (issue 13): a plain Node.js http server that, for every request, checks a
// bearer token against a map, runs the same trivial BEFORE_DOWNLOAD (or BEFORE_UPLOAD) worker in one warm `vm`
// context on the request's payload, and answers a 1 KiB file from memory (a PUT reads its body and answers 201).
// It prints the port it listens on (loopback, a free port) and serves until it is killed.
'use strict';
const http = require('http');
const vm = require('vm');

const token = process.argv[2] || 'peer';
const tokens = new Map([[`Bearer ${token}`, { name: 'admin' }]]);
const file = Buffer.alloc(1024, 'x');
const context = vm.createContext({
  DownloadStatus: Object.freeze({ DOWNLOAD_PROCEED: 1, DOWNLOAD_STOP: 2 }),
  UploadStatus: Object.freeze({ UPLOAD_PROCEED: 1, UPLOAD_STOP: 2 }),
});
const worker = vm.runInContext('(async (context, data) => ({ status: 1, message: "ok " + data.repoPath.key }))', context);

function payload(request, user) {
  const [, repo, ...rest] = request.url.split('/').filter(Boolean);
  const path = rest.join('/');
  const repoPath = { key: repo, path, id: `${repo}:${path}`, isRoot: false, isFolder: false };
  return JSON.stringify({
    metadata: { repoPath, name: rest[rest.length - 1] || '', headOnly: request.method === 'HEAD', repoType: 1 },
    headers: {},
    userContext: { id: user.name, isToken: true, realm: 'token' },
    repoPath,
  });
}

async function answer(request, response) {
  const user = tokens.get(request.headers.authorization);
  if (!user) {
    response.writeHead(401, { 'content-type': 'application/json' });
    return response.end('{"errors":[{"status":401,"message":"the token is not valid"}]}');
  }
  const verdict = JSON.parse(JSON.stringify(await worker({}, JSON.parse(payload(request, user)))));
  if (verdict.status === 2) {
    response.writeHead(403, { 'content-type': 'application/json' });
    return response.end(JSON.stringify({ errors: [{ status: 403, message: verdict.message }] }));
  }
  if (request.method === 'PUT') {
    response.writeHead(201, { 'content-type': 'application/json' });
    return response.end('{"size":"1024"}');
  }
  response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': file.length });
  response.end(file);
}

const server = http.createServer((request, response) => {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => answer(request, response).catch((error) => {
    response.writeHead(500);
    response.end(String(error));
  }));
});
server.listen(0, '127.0.0.1', () => console.log(`http://127.0.0.1:${server.address().port}`));
