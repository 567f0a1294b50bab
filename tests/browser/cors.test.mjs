// A page served from another origin (a second local port) calls the API in
// Debian's Chromium: fetch (with the preflight its Authorization header
// causes) and a WebSocket succeed against a server whose --cors-origins lists
// that origin, and fail against one whose list does not (API.md "Browser
// clients (CORS)").
//
//   SBD_LEDGER_BIN=build/tools/sbd-ledger/sbd-ledger node --test cors.test.mjs
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { launchChromium, mintToken, startServer, stopServer } from './harness.mjs';

const secret = `cors-test-${randomBytes(16).toString('hex')}`;
const kWaitMs = 10000;         // One fetch or WebSocket in the page.
const kTestTimeoutMs = 60000;  // One test, all steps.

let tempDir;
let pageServer;  // The other origin: serves a blank page.
let pageOrigin;
let listed;      // sbd-ledger with --cors-origins <pageOrigin>.
let unlisted;    // sbd-ledger with a list that leaves pageOrigin out.
let browser;
let page;
let alice;

before(async () => {
  tempDir = mkdtempSync(path.join(tmpdir(), 'sbd-cors-'));
  pageServer = createServer((request, response) => {
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    response.end('<!doctype html><html><head><title>other origin</title></head><body>app</body></html>');
  });
  await new Promise((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
  pageOrigin = `http://127.0.0.1:${pageServer.address().port}`;
  listed = await startServer({
    dbPath: path.join(tempDir, 'listed.db'), listen: '127.0.0.1:0', secret,
    extraArgs: ['--demo', '--no-access-log', '--cors-origins', pageOrigin],
  });
  unlisted = await startServer({
    dbPath: path.join(tempDir, 'unlisted.db'), listen: '127.0.0.1:0', secret,
    extraArgs: ['--demo', '--no-access-log', '--cors-origins', 'http://localhost:1'],
  });
  alice = await mintToken(secret, 'alice');
  browser = await launchChromium();
  const context = await browser.newContext();
  context.setDefaultTimeout(kWaitMs);
  page = await context.newPage();
  await page.goto(`${pageOrigin}/`);
});

after(async () => {
  await browser?.close().catch(() => {});
  await stopServer(listed).catch(() => {});
  await stopServer(unlisted).catch(() => {});
  await new Promise((resolve) => (pageServer ? pageServer.close(resolve) : resolve()));
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
});

// Runs in the page: a send (JSON body + Authorization: preflighted) then a
// balance read; {ok, ...} or {ok: false, error} when the browser blocks it.
function callApi(base, token) {
  return page.evaluate(async ([api, jwt, waitMs]) => {
    try {
      const headers = { Authorization: `Bearer ${jwt}`, 'Content-Type': 'application/json' };
      const sent = await fetch(`${api}/sbd_tokens/send`, {
        method: 'POST', headers, body: JSON.stringify({ to_user: 'bob', amount: 5, note: 'cross-origin' }),
        signal: AbortSignal.timeout(waitMs),
      });
      const sendBody = await sent.json();
      const balance = await fetch(`${api}/sbd_tokens`, { headers, signal: AbortSignal.timeout(waitMs) });
      return { ok: true, sendStatus: sent.status, sendBody, balance: await balance.json() };
    } catch (error) {
      return { ok: false, error: String(error) };
    }
  }, [base, token, kWaitMs]);
}

// Runs in the page: opens /ws and resolves to the first message's type, or
// "refused" when the socket closes without opening.
function openSocket(port, token) {
  return page.evaluate(([wsPort, jwt, waitMs]) => new Promise((resolve) => {
    const socket = new WebSocket(`ws://127.0.0.1:${wsPort}/ws?token=${jwt}`);
    const timer = setTimeout(() => resolve('timeout'), waitMs);
    socket.onmessage = (event) => {
      clearTimeout(timer);
      resolve(JSON.parse(event.data).type);
      socket.close();
    };
    socket.onclose = () => {
      clearTimeout(timer);
      resolve('refused');
    };
  }), [port, token, kWaitMs]);
}

test('a listed origin calls the API cross-origin', { timeout: kTestTimeoutMs }, async () => {
  const result = await callApi(`http://127.0.0.1:${listed.port}`, alice);
  assert.equal(result.ok, true, result.error);
  assert.equal(result.sendStatus, 200, JSON.stringify(result.sendBody));
  assert.equal(result.sendBody.status, 'success');
  assert.equal(result.sendBody.new_balance, 995);
  assert.deepEqual(result.balance, { username: 'alice', sbd_tokens: 995 });
  assert.equal(await openSocket(listed.port, alice), 'connected');
});

test('an origin not on the list is blocked by the browser', { timeout: kTestTimeoutMs }, async () => {
  const result = await callApi(`http://127.0.0.1:${unlisted.port}`, alice);
  assert.equal(result.ok, false, `the fetch went through: ${JSON.stringify(result)}`);
  assert.match(result.error, /TypeError|Failed to fetch/);
  // The preflight was refused, so the send never ran.
  const response = await fetch(`http://127.0.0.1:${unlisted.port}/sbd_tokens`, {
    headers: { Authorization: `Bearer ${alice}` }, signal: AbortSignal.timeout(kWaitMs),
  });
  assert.deepEqual(await response.json(), { username: 'alice', sbd_tokens: 1000 });
  // The WebSocket handshake from this origin is refused (403).
  assert.equal(await openSocket(unlisted.port, alice), 'refused');
});
