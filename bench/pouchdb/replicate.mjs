#!/usr/bin/env node
// PouchDB half of the Fieldbook sync benchmark.
//
//   node replicate.mjs --docs FILE.jsonl [--workdir DIR] [--batch-size 100]
//                      [--batches-limit 10] [--load-batch 500] [--keep]
//
// 1. starts pouchdb-server (separate Node process, LevelDB on disk in a fresh
//    temp dir) on a free 127.0.0.1 port;
// 2. loads every document of FILE.jsonl into the server database `bench` with
//    bulkDocs (not timed);
// 3. starts a byte-counting TCP proxy on another loopback port in front of it;
// 4. times a one-shot PouchDB.replicate(remote-via-proxy -> fresh on-disk local
//    LevelDB database in the workdir) until `complete`, and checks the local
//    doc count;
// 5. prints ONE JSON line on stdout, then stops everything and removes the
//    temp dirs (unless --keep). All progress goes to stderr.

import { spawn } from 'node:child_process';
import { createReadStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import readline from 'node:readline';
import { parseArgs } from 'node:util';

import PouchDB from 'pouchdb';

const require = createRequire(import.meta.url);
const log = (msg) => process.stderr.write(`[pouchdb-bench] ${msg}\n`);

const { values: args } = parseArgs({
  options: {
    docs: { type: 'string' },
    workdir: { type: 'string' },
    'batch-size': { type: 'string', default: '100' },
    'batches-limit': { type: 'string', default: '10' },
    'load-batch': { type: 'string', default: '500' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (args.help || !args.docs) {
  process.stderr.write(
    'usage: node replicate.mjs --docs FILE.jsonl [--workdir DIR] [--batch-size 100]\n' +
      '                          [--batches-limit 10] [--load-batch 500] [--keep]\n',
  );
  process.exit(args.help ? 0 : 2);
}

function posInt(name) {
  const n = Number(args[name]);
  if (!Number.isInteger(n) || n <= 0) {
    log(`--${name} must be a positive integer, got ${args[name]}`);
    process.exit(2);
  }
  return n;
}
const BATCH_SIZE = posInt('batch-size');
const BATCHES_LIMIT = posInt('batches-limit');
const LOAD_BATCH = posInt('load-batch');
const DB_NAME = 'bench';

function pkgVersion(spec, from = require) {
  return JSON.parse(readFileSync(from.resolve(`${spec}/package.json`), 'utf8')).version;
}
// Versions of what actually runs on each side (resolved the way each package
// resolves its own dependencies).
const requireFromPouch = createRequire(require.resolve('pouchdb'));
const requireFromServer = createRequire(require.resolve('pouchdb-server/package.json'));
const requireFromServerAdapter = createRequire(
  requireFromServer.resolve('pouchdb-adapter-leveldb/package.json'),
);
const VERSIONS = {
  pouchdb: pkgVersion('pouchdb'),
  clientLeveldown: pkgVersion('leveldown', requireFromPouch),
  server: pkgVersion('pouchdb-server'),
  expressPouchdb: pkgVersion('express-pouchdb', requireFromServer),
  serverAdapter: pkgVersion('pouchdb-adapter-leveldb', requireFromServer),
  serverLeveldown: pkgVersion('leveldown', requireFromServerAdapter),
};

// ---------------------------------------------------------------- helpers

function freePort() {
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

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function startServer(serverDir) {
  const dataDir = path.join(serverDir, 'data');
  await mkdir(dataDir, { recursive: true });
  const configPath = path.join(serverDir, 'config.json');
  // Log only errors, to a file in the temp dir (not per request to stdout).
  writeFileSync(
    configPath,
    JSON.stringify({ log: { file: path.join(serverDir, 'log.txt'), level: 'error' } }, null, 2),
  );
  const port = await freePort();
  const bin = requireFromServer.resolve('./bin/pouchdb-server');
  const child = spawn(
    process.execPath,
    [bin, '--host', '127.0.0.1', '--port', String(port), '--dir', dataDir,
      '--config', configPath, '--no-stdout-logs', '--no-color'],
    { cwd: serverDir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const forward = (stream) =>
    readline.createInterface({ input: stream }).on('line', (l) => log(`server: ${l}`));
  forward(child.stdout);
  forward(child.stderr);
  let exited = null;
  child.on('exit', (code, signal) => {
    exited = { code, signal };
  });

  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) throw new Error(`pouchdb-server exited early: ${JSON.stringify(exited)}`);
    try {
      const res = await fetch(`${base}/`);
      if (res.ok) {
        await res.json();
        break;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('pouchdb-server did not answer within 30 s');
    await sleep(100);
  }

  async function stop() {
    if (exited) return;
    const done = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    await done;
    clearTimeout(t);
  }
  return { port, base, pid: child.pid, stop };
}

async function loadDocs(remote, file) {
  const rl = readline.createInterface({
    input: createReadStream(file, { encoding: 'utf8' }),
    crlfDelay: Infinity,
  });
  let batch = [];
  let loaded = 0;
  let lineNo = 0;
  let inputBytes = 0;
  const ids = new Set();
  const flush = async () => {
    if (batch.length === 0) return;
    const res = await remote.bulkDocs(batch);
    const bad = res.filter((r) => r.error);
    if (bad.length) {
      throw new Error(
        `bulkDocs rejected ${bad.length} of ${batch.length} docs, e.g. ${JSON.stringify(bad[0])}`,
      );
    }
    loaded += batch.length;
    batch = [];
    if (loaded % 2000 < LOAD_BATCH) log(`loaded ${loaded} docs`);
  };
  for await (const line of rl) {
    lineNo++;
    if (line.trim() === '') continue;
    inputBytes += Buffer.byteLength(line);
    let doc;
    try {
      doc = JSON.parse(line);
    } catch (e) {
      throw new Error(`${file}:${lineNo}: not JSON: ${e.message}`);
    }
    if (typeof doc?._id !== 'string') throw new Error(`${file}:${lineNo}: no string _id`);
    if (ids.has(doc._id)) throw new Error(`${file}:${lineNo}: duplicate _id ${doc._id}`);
    ids.add(doc._id);
    batch.push(doc);
    if (batch.length >= LOAD_BATCH) await flush();
  }
  await flush();
  return { loaded, inputBytes };
}

function startProxy(targetPort) {
  const stats = { c2s: 0, s2c: 0, connections: 0 };
  const sockets = new Set();
  const server = net.createServer((client) => {
    stats.connections++;
    const upstream = net.connect(targetPort, '127.0.0.1');
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    sockets.add(client);
    sockets.add(upstream);
    client.on('data', (d) => {
      stats.c2s += d.length;
    });
    upstream.on('data', (d) => {
      stats.s2c += d.length;
    });
    client.pipe(upstream);
    upstream.pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', () => {
      sockets.delete(client);
      upstream.end();
    });
    upstream.on('close', () => {
      sockets.delete(upstream);
      client.end();
    });
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: server.address().port,
        stats,
        close: () =>
          new Promise((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      });
    });
  });
}

// ---------------------------------------------------------------- main

const cleanups = [];
async function cleanup() {
  while (cleanups.length) {
    const fn = cleanups.pop();
    try {
      await fn();
    } catch (e) {
      log(`cleanup: ${e.message}`);
    }
  }
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, async () => {
    log(`${sig}: cleaning up`);
    await cleanup();
    process.exit(130);
  });
}

async function main() {
  const docsFile = path.resolve(args.docs);
  if (!existsSync(docsFile)) throw new Error(`no such docs file: ${docsFile}`);
  const workBase = path.resolve(args.workdir ?? os.tmpdir());
  await mkdir(workBase, { recursive: true });

  const serverDir = await mkdtemp(path.join(os.tmpdir(), 'pouchdb-bench-server-'));
  const clientDir = await mkdtemp(path.join(workBase, 'pouchdb-bench-client-'));
  if (args.keep) {
    log(`--keep: leaving ${serverDir} and ${clientDir}`);
  } else {
    cleanups.push(() => rm(serverDir, { recursive: true, force: true }));
    cleanups.push(() => rm(clientDir, { recursive: true, force: true }));
  }

  log(`starting pouchdb-server ${VERSIONS.server} (data in ${serverDir})`);
  const server = await startServer(serverDir);
  cleanups.push(server.stop);
  log(`pouchdb-server pid ${server.pid} on ${server.base}`);

  // ---- load (not timed), directly against the server, not via the proxy
  const direct = new PouchDB(`${server.base}/${DB_NAME}`);
  const tLoad = performance.now();
  const { loaded, inputBytes } = await loadDocs(direct, docsFile);
  const serverInfo = await direct.info();
  await direct.close();
  log(
    `loaded ${loaded} docs (${(inputBytes / 1e6).toFixed(1)} MB of JSON) in ` +
      `${((performance.now() - tLoad) / 1000).toFixed(1)} s; server doc_count=${serverInfo.doc_count}`,
  );
  if (serverInfo.doc_count !== loaded) {
    throw new Error(`server doc_count ${serverInfo.doc_count} != loaded ${loaded}`);
  }

  // ---- proxy + fresh on-disk client
  const proxy = await startProxy(server.port);
  cleanups.push(proxy.close);
  const remote = new PouchDB(`http://127.0.0.1:${proxy.port}/${DB_NAME}`, { skip_setup: true });
  const local = new PouchDB(path.join(clientDir, DB_NAME)); // leveldb adapter (leveldown)
  await local.info(); // open the LevelDB store before the clock starts
  if (local.adapter !== 'leveldb') throw new Error(`client adapter is ${local.adapter}`);
  log(
    `replicating via proxy :${proxy.port} into ${clientDir} ` +
      `(batch_size=${BATCH_SIZE}, batches_limit=${BATCHES_LIMIT})`,
  );

  // ---- timed section
  const t0 = performance.now();
  const info = await new Promise((resolve, reject) => {
    const rep = PouchDB.replicate(remote, local, {
      batch_size: BATCH_SIZE,
      batches_limit: BATCHES_LIMIT,
    });
    let nextReport = 2000;
    rep.on('change', (c) => {
      if (c.docs_written >= nextReport) {
        log(`replicated ${c.docs_written} docs`);
        nextReport += 2000;
      }
    });
    rep.on('complete', resolve);
    rep.on('error', reject);
    rep.on('denied', (e) => reject(new Error(`replication denied: ${JSON.stringify(e)}`)));
  });
  const seconds = (performance.now() - t0) / 1000;
  // ---- end of timed section

  const stats = { ...proxy.stats };
  const localInfo = await local.info();
  log(
    `replication ${info.status}: docs_read=${info.docs_read} docs_written=${info.docs_written} ` +
      `doc_write_failures=${info.doc_write_failures} in ${seconds.toFixed(3)} s; ` +
      `local doc_count=${localInfo.doc_count}`,
  );
  if (info.status !== 'complete' || info.doc_write_failures !== 0) {
    throw new Error(`replication did not complete cleanly: ${JSON.stringify(info)}`);
  }
  if (localInfo.doc_count !== loaded) {
    throw new Error(`local doc_count ${localInfo.doc_count} != loaded ${loaded}`);
  }
  await local.close();
  await remote.close();

  const result = {
    tool: 'pouchdb',
    docs: loaded,
    seconds: Number(seconds.toFixed(3)),
    bytes_server_to_client: stats.s2c,
    bytes_client_to_server: stats.c2s,
    connections: stats.connections,
    client_adapter:
      `pouchdb ${VERSIONS.pouchdb} leveldb adapter (leveldown ${VERSIONS.clientLeveldown}, ` +
      'on disk, LevelDB default non-sync writes)',
    server:
      `pouchdb-server ${VERSIONS.server} (express-pouchdb ${VERSIONS.expressPouchdb}, ` +
      `pouchdb-adapter-leveldb ${VERSIONS.serverAdapter}, leveldown ${VERSIONS.serverLeveldown}, ` +
      'on disk), separate node process',
    batch_size: BATCH_SIZE,
  };
  process.stdout.write(JSON.stringify(result) + '\n');
}

let code = 0;
try {
  await main();
} catch (e) {
  log(`error: ${e.stack || e.message}`);
  code = 1;
}
await cleanup();
process.exit(code);
