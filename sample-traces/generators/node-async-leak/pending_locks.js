// A tiny HTTP service for leakscope's sample traces: some requests wait for a lock that is
// never released (their promises never settle and stay reachable in `waiters`), the others
// finish. Run with make-sample.sh, which records Chrome trace events and a CPU profile.
// With LEAKSCOPE_HEALTHY=1 the same service releases every lock once the response is out
// (the correct code), so nothing stays pending: the healthy sample.
'use strict';
const http = require('node:http');

const waiters = []; // keeps every never-settled promise reachable, so async_hooks never destroys it
const healthy = process.env.LEAKSCOPE_HEALTHY === '1';

function acquireLock(name) {
  // Nobody ever calls release: the promise never settles.
  return new Promise((resolve) => waiters.push({ name, resolve }));
}

async function slowLookup(id) {
  await new Promise((resolve) => setTimeout(resolve, 2));
  return { id, value: id * 7 };
}

async function handle(req, res) {
  const id = Number(new URL(req.url, 'http://x').searchParams.get('id'));
  if (id % 4 === 0) {
    // Fire-and-forget: the response goes out, the lock wait stays pending forever.
    acquireLock(`order-${id}`).then(() => {
      if (!healthy) console.log('never printed');
    });
  }
  const item = await slowLookup(id);
  res.end(JSON.stringify(item));
  if (healthy) {
    // The fix: whoever takes the lock releases it; the wait settles and is collected.
    while (waiters.length > 0) waiters.shift().resolve();
  }
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((err) => {
    res.statusCode = 500;
    res.end(String(err));
  });
});

function get(port, id) {
  return new Promise((resolve, reject) => {
    http.get({ port, path: `/item?id=${id}` }, (res) => {
      res.resume();
      res.on('end', resolve);
    }).on('error', reject);
  });
}

server.listen(0, '127.0.0.1', async () => {
  const { port } = server.address();
  for (let id = 1; id <= 12; id++) {
    await get(port, id);
  }
  server.close();
  // Collect what is no longer reachable so that async_hooks reports those promises
  // destroyed: what stays open at the end is what the program still holds.
  global.gc();
  setImmediate(() => {
    global.gc();
    setImmediate(() => console.log(JSON.stringify({ requests: 12, pending_locks: waiters.length })));
  });
});
