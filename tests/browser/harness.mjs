// What the browser tests share: the server under test, a check runner that counts results, the
// public API, a watcher for what a page does (errors, failed and foreign requests), and a
// chromium launcher with a fresh profile.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const BASE = (process.env.ATLAS_URL || 'http://127.0.0.1:18080').replace(/\/+$/, '');
export const ORIGIN = new URL(BASE).origin;
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), 'artifacts');

let passed = 0;
const failed = [];
export async function check(name, fn) {
  try {
    await fn();
    passed += 1;
    console.log(`ok - ${name}`);
  } catch (err) {
    failed.push(name);
    console.log(`not ok - ${name}\n    ${String(err && err.stack ? err.message : err).replace(/\n/g, '\n    ')}`);
  }
}
export function assert(cond, message) { if (!cond) throw new Error(message); }
export function assertEq(actual, expected, what) {
  const a = JSON.stringify(actual);
  const b = JSON.stringify(expected);
  if (a !== b) throw new Error(`${what}: page has ${a}, API says ${b}`);
}

export async function api(path) {
  const r = await fetch(BASE + path, { headers: { Accept: 'application/geo+json, application/json' } });
  if (!r.ok) throw new Error(`GET ${path}: HTTP ${r.status} ${await r.text()}`);
  return r.json();
}

/** Everything a page does that the test must see: console errors, failures, foreign requests. */
export function watch(page, label) {
  const log = { errors: [], foreign: [], failed: [], requests: 0, responses: [] };
  page.on('console', (msg) => { if (msg.type() === 'error') log.errors.push(`[${label}] console: ${msg.text()}`); });
  page.on('pageerror', (err) => log.errors.push(`[${label}] uncaught: ${err.message}`));
  page.on('request', (req) => {
    log.requests += 1;
    const u = req.url();
    if (u.startsWith('data:') || u.startsWith('blob:') || u === 'about:blank') return;
    if (new URL(u).origin !== ORIGIN) log.foreign.push(`[${label}] ${req.method()} ${u}`);
  });
  page.on('requestfailed', (req) => {
    const why = req.failure() && req.failure().errorText;
    if (why !== 'net::ERR_ABORTED') log.failed.push(`[${label}] ${req.url()} (${why})`);
  });
  page.on('response', (res) => {
    log.responses.push(res);
    if (res.status() >= 400) log.failed.push(`[${label}] ${res.url()} -> HTTP ${res.status()}`);
  });
  return log;
}

/** The checks every test ends with: what the watched pages did. */
export async function checkWatched(logs) {
  await check('no console errors', async () => {
    const errors = logs.flatMap((l) => l.errors);
    assert(errors.length === 0, errors.join('\n'));
  });
  await check('no failed requests', async () => {
    const bad = logs.flatMap((l) => l.failed);
    assert(bad.length === 0, bad.join('\n'));
  });
  await check(`no request leaves ${ORIGIN}`, async () => {
    const foreign = logs.flatMap((l) => l.foreign);
    assert(logs[0].requests > 5, 'too few requests seen; is request tracking working?');
    assert(foreign.length === 0, foreign.join('\n'));
  });
}

/**
 * Runs `body(context)` in a fresh chromium profile, after checking the server answers; prints
 * the summary and exits 1 when any check failed. `extraArgs` are added to chromium's flags.
 */
export async function run(body, { extraArgs = [] } = {}) {
  mkdirSync(ARTIFACTS, { recursive: true });
  try {
    const r = await fetch(`${BASE}/collections`);
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
  } catch (err) {
    console.log(`not ok - server reachable at ${BASE}: ${err.message}`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  const profile = mkdtempSync(join(tmpdir(), 'atlas-chromium-'));
  let crashed = null;
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
        '--disable-dev-shm-usage', ...extraArgs],
      viewport: { width: 1280, height: 800 },
      deviceScaleFactor: 1,
      locale: 'en-GB',
      timezoneId: 'UTC',
    });
    context.setDefaultTimeout(15000);
    try {
      await body(context);
    } finally {
      await context.close();
    }
  } catch (err) {
    crashed = err;
    console.error(`browser test crashed: ${err.stack || err}`);
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
  const failures = failed.length + (crashed ? 1 : 0);
  if (failed.length) console.log(`FAILED: ${failed.join('; ')}`);
  console.log(`${passed} passed, ${failures} failed`);
  process.exit(failures ? 1 : 0);
}

// The numeric key a vector tile carries for a feature whose API id is `id`: the id itself when
// it is a number, else the documented 53-bit FNV-1a hash of the UTF-8 string (0 becomes 1).
export function tileKey(id) {
  if (typeof id === 'number') return id;
  let h = 0xcbf29ce484222325n;
  for (const b of new TextEncoder().encode(String(id))) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  const key = Number(h & ((1n << 53n) - 1n));
  return key === 0 ? 1 : key;
}

// API features with their ids replaced by the keys their tile features carry.
export function withTileKeys(features) {
  return features.map((f) => ({ ...f, id: tileKey(f.id) }));
}
