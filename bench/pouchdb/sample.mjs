#!/usr/bin/env node
// Generates a synthetic JSONL file of work-order documents shaped roughly like
// the ones the Rust side of the benchmark exports (one JSON document per line,
// each with a string `_id`, about 3–8 KB each), so replicate.mjs can be tried
// without the Rust side.
//
//   node sample.mjs [--count 10000] [--small 0] [--seed 1] --out FILE.jsonl
//
// --count  number of work-order documents (default 10000)
// --small  number of extra small documents (notes, ~200 B) appended (default 0)
// --seed   PRNG seed; the same seed gives byte-identical output (default 1)

import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    count: { type: 'string', default: '10000' },
    small: { type: 'string', default: '0' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (args.help || !args.out) {
  process.stderr.write(
    'usage: node sample.mjs [--count N] [--small M] [--seed S] --out FILE.jsonl\n',
  );
  process.exit(args.help ? 0 : 2);
}

const count = parseCount(args.count, '--count');
const small = parseCount(args.small, '--small');

function parseCount(s, name) {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0) {
    process.stderr.write(`sample.mjs: ${name} must be a non-negative integer, got ${s}\n`);
    process.exit(2);
  }
  return n;
}

// mulberry32: small deterministic PRNG.
let state = Number(args.seed) >>> 0;
function rand() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
const pick = (arr) => arr[Math.floor(rand() * arr.length)];
const hex = (n) => {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(rand() * 16).toString(16);
  return s;
};
const uuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-${pick(['8', '9', 'a', 'b'])}${hex(3)}-${hex(12)}`;

const WORDS = (
  'pump valve filter belt bearing seal gasket motor panel breaker fuse relay ' +
  'sensor gauge pressure flow leak corrosion vibration noise clean replace ' +
  'inspect tighten lubricate adjust calibrate check ok worn cracked loose ' +
  'north south east west roof basement plant room unit line zone bay'
).split(' ');
const words = (n) => Array.from({ length: n }, () => pick(WORDS)).join(' ');
const CITIES = ['Leeds', 'Bristol', 'Glasgow', 'Cardiff', 'Norwich', 'Exeter', 'York', 'Derby'];
const STREETS = ['High St', 'Station Rd', 'Mill Lane', 'Church Rd', 'Park Ave', 'Quay St'];
const STATUSES = ['scheduled', 'in_progress', 'completed', 'signed_off'];
const OUTCOMES = ['pass', 'fail', 'na'];
const ts = (base) => new Date(base + int(0, 90 * 24 * 3600) * 1000).toISOString();
const BASE = Date.UTC(2025, 0, 1);

// A fixed pool of customers/sites/assets/templates so documents share
// denormalised data, as the exported work orders do.
const customers = Array.from({ length: 200 }, (_, i) => ({
  id: uuid(),
  name: `${pick(['Acme', 'Northwind', 'Globex', 'Initech', 'Umbrella', 'Stark'])} ${words(1)} ${i}`,
  account_ref: `CUST-${String(i).padStart(5, '0')}`,
  contact: { name: `${words(1)} ${words(1)}`, phone: `+44 ${int(1000, 9999)} ${int(100000, 999999)}` },
}));
const sites = Array.from({ length: 800 }, (_, i) => ({
  id: uuid(),
  customer_id: pick(customers).id,
  name: `Site ${i} ${words(2)}`,
  address: { line1: `${int(1, 300)} ${pick(STREETS)}`, city: pick(CITIES), postcode: `${hex(2).toUpperCase()}${int(1, 9)} ${int(1, 9)}${hex(2).toUpperCase()}` },
  geo: { lat: 50 + rand() * 8, lon: -5 + rand() * 6 },
  access_notes: words(int(4, 20)),
}));
const templates = Array.from({ length: 12 }, (_, i) => ({
  id: uuid(),
  name: `Template ${i} ${words(2)}`,
  version: int(1, 9),
  items: Array.from({ length: 40 }, (_, j) => ({
    key: `item_${j}`,
    label: `${words(int(2, 6))}?`,
    kind: pick(['pass_fail', 'number', 'text', 'photo']),
    required: rand() < 0.7,
  })),
}));
const policies = Array.from({ length: 6 }, (_, i) => ({
  id: uuid(),
  name: `Policy ${i}`,
  require_signature: rand() < 0.5,
  require_photos_on_fail: rand() < 0.5,
  sla_hours: pick([4, 8, 24, 48, 72]),
}));

function workOrder(i) {
  const site = pick(sites);
  const customer = customers.find((c) => c.id === site.customer_id);
  const template = pick(templates);
  const nItems = int(10, 29); // drives the 3–8 KB size spread
  const created = ts(BASE);
  return {
    _id: `wo:${String(i).padStart(6, '0')}:${hex(8)}`,
    type: 'work_order',
    number: `WO-${100000 + i}`,
    status: pick(STATUSES),
    priority: pick(['low', 'normal', 'high', 'urgent']),
    created_at: created,
    updated_at: ts(BASE + 30 * 24 * 3600 * 1000),
    summary: words(int(5, 15)),
    customer,
    site: { id: site.id, name: site.name, address: site.address, geo: site.geo, access_notes: site.access_notes },
    asset: {
      id: uuid(),
      tag: `AST-${int(10000, 99999)}`,
      make: pick(['Grundfos', 'ABB', 'Siemens', 'Daikin', 'Carrier']),
      model: `${hex(2).toUpperCase()}-${int(100, 999)}`,
      serial: hex(12).toUpperCase(),
      installed: ts(BASE - 5 * 365 * 24 * 3600 * 1000),
    },
    template: { id: template.id, name: template.name, version: template.version },
    policy: pick(policies),
    assignee: { id: uuid(), name: `${words(1)} ${words(1)}` },
    checklist: Array.from({ length: nItems }, (_, j) => {
      const item = template.items[j % template.items.length];
      return {
        key: item.key,
        label: item.label,
        kind: item.kind,
        outcome: pick(OUTCOMES),
        value: item.kind === 'number' ? Math.round(rand() * 10000) / 100 : null,
        note: rand() < 0.5 ? words(int(3, 18)) : '',
        recorded_at: ts(BASE),
        recorded_by: hex(8),
      };
    }),
    signature: rand() < 0.4 ? { by: words(2), at: ts(BASE), hash: hex(64) } : null,
  };
}

function smallDoc(i) {
  return {
    _id: `note:${String(i).padStart(6, '0')}:${hex(8)}`,
    type: 'note',
    created_at: ts(BASE),
    text: words(int(5, 20)),
  };
}

const out = createWriteStream(args.out);
let bytes = 0;
async function write(doc) {
  const line = JSON.stringify(doc) + '\n';
  bytes += Buffer.byteLength(line);
  if (!out.write(line)) await once(out, 'drain');
}
for (let i = 0; i < count; i++) await write(workOrder(i));
for (let i = 0; i < small; i++) await write(smallDoc(i));
out.end();
await once(out, 'finish');
process.stderr.write(
  `sample.mjs: wrote ${count + small} docs (${count} work orders, ${small} small), ` +
    `${(bytes / 1e6).toFixed(1)} MB, avg ${Math.round(bytes / Math.max(1, count + small))} B/doc -> ${args.out}\n`,
);
