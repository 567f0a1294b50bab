// End-to-end test of the wallet page (GET /) in a real browser against the
// real server: starts `sbd-ledger serve --demo` on a temporary database,
// drives Debian's Chromium with playwright-core, restarts the server under
// the open pages, and checks what a person would see.
//
//   SBD_LEDGER_BIN=build/tools/sbd-ledger/sbd-ledger node --test
//
// Environment: SBD_LEDGER_BIN (required, or argv[2] of run.sh), SBD_CHROMIUM
// (default /usr/bin/chromium). Screenshots go to tests/browser/artifacts/.
// Every wait is bounded; the server and the browser are always stopped.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  binary, chromiumPath, launchChromium, mintToken, sleep, startServer as startHarnessServer, stopServer,
} from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const artifacts = path.join(here, 'artifacts');
const secret = `browser-test-${randomBytes(16).toString('hex')}`;

const kWaitMs = 10000;           // Any one thing the page should show.
const kReconnectWaitMs = 20000;  // Backoff caps at 5 s; a few attempts fit.
const kTestTimeoutMs = 90000;    // One test, all steps.

const kXssNote = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">';

let tempDir;
let dbPath;
let server;        // {child, port, log()}
let browser;
const pages = {};  // name -> {page, context, errors: [], requests: []}

// ---------------------------------------------------------------- server

function startServer(listen, { demo }) {
  return startHarnessServer({ dbPath, listen, secret, extraArgs: demo ? ['--demo'] : [] });
}

function base() {
  return `http://127.0.0.1:${server.port}`;
}

function token(user, ttlSeconds) {
  return mintToken(secret, user, { ttlSeconds });
}

const tokens = {};

async function apiCall(user, method, urlPath, body) {
  const response = await fetch(`${base()}${urlPath}`, {
    method,
    headers: {
      Authorization: `Bearer ${tokens[user]}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(kWaitMs),
  });
  return { status: response.status, body: await response.json() };
}

async function balanceOf(user) {
  const { status, body } = await apiCall(user, 'GET', '/sbd_tokens');
  assert.equal(status, 200, `GET /sbd_tokens for ${user}: ${JSON.stringify(body)}`);
  return body.sbd_tokens;
}

// ---------------------------------------------------------------- browser

async function openPage(name, url) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  context.setDefaultTimeout(kWaitMs);
  context.setDefaultNavigationTimeout(kWaitMs);
  const page = await context.newPage();
  const entry = { page, context, errors: [], requests: [] };
  page.on('pageerror', (error) => entry.errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    // Failed connections while the server is down are expected noise.
    if (message.type() === 'error' && !/WebSocket|ERR_CONNECTION_REFUSED|Failed to load resource/.test(message.text())) {
      entry.errors.push(`console: ${message.text()}`);
    }
  });
  page.on('request', (request) => entry.requests.push(request.url()));
  page.on('websocket', (socket) => entry.requests.push(socket.url()));
  pages[name] = entry;
  await page.goto(url);
  return page;
}

// Waits until the text of `selector` satisfies `expected` (a string: equal
// after trimming; {includes}: contains); fails with what was shown instead.
async function waitForText(page, selector, expected, timeout = kWaitMs) {
  const want = typeof expected === 'string' ? { equals: expected } : expected;
  try {
    await page.waitForFunction(
      ([sel, w]) => {
        const node = document.querySelector(sel);
        if (!node) return false;
        const text = node.textContent.trim();
        return w.equals !== undefined ? text === w.equals : text.includes(w.includes);
      },
      [selector, want],
      { timeout },
    );
  } catch (error) {
    const actual = await page.locator(selector).first().textContent({ timeout: 1000 }).catch(() => '<absent>');
    throw new Error(`${selector}: wanted ${JSON.stringify(want)} within ${timeout} ms, shows ${JSON.stringify(actual)} (${error.message.split('\n')[0]})`);
  }
}

async function waitForConnection(page, state, timeout = kWaitMs) {
  await page.locator(`#connection-state[data-state="${state}"]`).waitFor({ state: 'attached', timeout });
}

async function countNotifications(page, text) {
  return page.locator('#notifications li .message', { hasText: text }).count();
}

async function send(page, to, amount, note) {
  await page.fill('#to', to);
  await page.fill('#amount', String(amount));
  await page.fill('#note', note || '');
  await page.click('#send-button');
}

async function screenshot(user, name = user) {
  mkdirSync(artifacts, { recursive: true });
  // After the balance's change highlight has faded.
  await pages[user].page.waitForFunction(() => !document.querySelector('#balance.flash-up, #balance.flash-down'));
  await sleep(700);
  await pages[user].page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

// ---------------------------------------------------------------- setup

before(async () => {
  assert.ok(binary, 'set SBD_LEDGER_BIN to the sbd-ledger binary');
  assert.ok(existsSync(binary), `no sbd-ledger binary at ${binary}`);
  assert.ok(existsSync(chromiumPath), `no Chromium at ${chromiumPath} (install Debian's chromium package)`);
  tempDir = mkdtempSync(path.join(tmpdir(), 'sbd-browser-'));
  dbPath = path.join(tempDir, 'ledger.db');
  server = await startServer('127.0.0.1:0', { demo: true });
  for (const user of ['alice', 'bob', 'carol']) tokens[user] = await token(user);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close().catch(() => {});
  await stopServer(server).catch(() => {});
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
});

// ---------------------------------------------------------------- tests

test('opens signed in from /#token= and takes the token out of the address bar', { timeout: kTestTimeoutMs }, async () => {
  for (const user of ['alice', 'bob']) {
    const page = await openPage(user, `${base()}/#token=${tokens[user]}`);
    await waitForText(page, '#username', user);
    await waitForText(page, '#balance', String(await balanceOf(user)));
    await waitForConnection(page, 'connected');
    assert.ok(!page.url().includes('token'), `token still in the address bar: ${page.url()}`);
    assert.equal(await page.evaluate(() => sessionStorage.length > 0), true, 'token kept in sessionStorage');
    // Marks the document: still there at the end means no reload happened.
    await page.evaluate(() => { window.__sameDocument = true; });
  }
});

test('a transfer shows up on both pages without a reload', { timeout: kTestTimeoutMs }, async () => {
  const alice = pages.alice.page;
  const bob = pages.bob.page;
  const aliceBefore = await balanceOf('alice');
  const bobBefore = await balanceOf('bob');
  await send(alice, 'bob', 25, 'Lunch at Café Zoë — thanks!');

  await waitForText(bob, '#balance', String(bobBefore + 25));
  await waitForText(bob, '#notifications li', { includes: 'You received 25 SBD tokens from alice.' });
  await waitForText(bob, '#notifications li', { includes: 'Note: Lunch at Café Zoë — thanks!' });
  await waitForText(alice, '#balance', String(aliceBefore - 25));
  await waitForText(alice, '#notifications li', { includes: 'You sent 25 SBD tokens to bob.' });
  await waitForText(alice, '#send-status', 'Sent 25 SBD tokens to bob.');
  // The form is cleared after a success.
  assert.equal(await alice.inputValue('#to'), '');
  assert.equal(await alice.inputValue('#amount'), '');
  assert.equal(await alice.inputValue('#note'), '');
  // Recent transactions follow, newest first, on both sides.
  await waitForText(bob, '#transactions li .tx-title', 'Received from alice');
  await waitForText(bob, '#transactions li .tx-note', 'Lunch at Café Zoë — thanks!');
  await waitForText(alice, '#transactions li .tx-title', 'Sent to bob');
  assert.equal(await balanceOf('alice'), aliceBefore - 25);
  assert.equal(await balanceOf('bob'), bobBefore + 25);
  for (const page of [alice, bob]) assert.equal(await page.evaluate(() => window.__sameDocument), true);
  await screenshot('alice');
  await screenshot('bob');
});

test('refused sends are explained in words, keep the form and change no balance', { timeout: kTestTimeoutMs }, async () => {
  const alice = pages.alice.page;
  const bob = pages.bob.page;
  const aliceBefore = await balanceOf('alice');
  const bobBefore = await balanceOf('bob');

  await send(alice, 'bob', aliceBefore + 1, 'too much');
  await waitForText(alice, '#send-error', { includes: 'Insufficient funds' });
  assert.equal(await alice.getAttribute('#send-error', 'data-code'), 'insufficient_funds');
  assert.equal(await alice.inputValue('#to'), 'bob');
  assert.equal(await alice.inputValue('#amount'), String(aliceBefore + 1));
  assert.equal(await alice.inputValue('#note'), 'too much');
  await screenshot('alice', 'alice-insufficient-funds');

  await send(alice, 'nobody_here', 1);
  await waitForText(alice, '#send-error', { includes: 'Unknown recipient: there is no account named “nobody_here”.' });
  assert.equal(await alice.inputValue('#to'), 'nobody_here');

  await send(alice, 'alice', 1);
  await waitForText(alice, '#send-error', 'You cannot send SBD tokens to yourself.');

  await send(alice, 'bob', '2.5');
  await waitForText(alice, '#send-error', { includes: 'Invalid amount' });
  assert.equal(await alice.inputValue('#amount'), '2.5');

  // Nothing moved, on screen or in the ledger.
  await sleep(300);
  await waitForText(alice, '#balance', String(aliceBefore));
  await waitForText(bob, '#balance', String(bobBefore));
  assert.equal(await balanceOf('alice'), aliceBefore);
  assert.equal(await balanceOf('bob'), bobBefore);
  await alice.fill('#amount', '');
  await alice.fill('#to', '');
  await alice.fill('#note', '');
});

test('a send whose answer is lost is settled once: by the socket, or by a retry with the same id', { timeout: kTestTimeoutMs }, async () => {
  const alice = pages.alice.page;
  const bob = pages.bob.page;
  const ids = [];
  let mode = 'lose-answer';
  await alice.route('**/sbd_tokens/send', async (route) => {
    ids.push(route.request().postDataJSON().transaction_id);
    if (mode === 'lose-answer') {
      await route.fetch();                   // The server applies it...
      await route.abort('connectionreset');  // ...and the answer never arrives.
    } else if (mode === 'lose-request') {
      await route.abort('connectionreset');  // Never reaches the server.
    } else {
      await route.continue();
    }
  });
  try {
    // Lost answer: the `sbd_tokens_sent` message names the same id.
    let aliceBefore = await balanceOf('alice');
    let bobBefore = await balanceOf('bob');
    await send(alice, 'bob', 3, 'answer lost');
    await waitForText(alice, '#send-status', 'Sent 3 SBD tokens to bob.');
    assert.equal(await alice.inputValue('#amount'), '');
    await waitForText(bob, '#balance', String(bobBefore + 3));
    assert.equal(await balanceOf('alice'), aliceBefore - 3);

    // Lost request: the error says so, the form stays, Send again reuses the id.
    mode = 'lose-request';
    aliceBefore = await balanceOf('alice');
    bobBefore = await balanceOf('bob');
    await send(alice, 'bob', 4, 'request lost');
    await waitForText(alice, '#send-error', { includes: 'Could not reach the server' });
    assert.equal(await alice.getAttribute('#send-error', 'data-code'), 'network');
    assert.equal(await alice.inputValue('#amount'), '4');
    mode = 'pass';
    await alice.click('#send-button');
    await waitForText(alice, '#send-status', 'Sent 4 SBD tokens to bob.');
    await waitForText(bob, '#balance', String(bobBefore + 4));
    assert.equal(await balanceOf('alice'), aliceBefore - 4);
    assert.equal(ids.length, 3);
    assert.notEqual(ids[0], ids[1]);
    assert.equal(ids[1], ids[2]);
    // A fresh send gets a fresh id.
    await send(alice, 'bob', 1);
    await waitForText(alice, '#send-status', 'Sent 1 SBD token to bob.');
    assert.equal(ids.length, 4);
    assert.notEqual(ids[3], ids[2]);
    await sleep(300);
    assert.equal(await countNotifications(bob, 'You received 3 SBD tokens from alice.'), 1);
    assert.equal(await countNotifications(bob, 'You received 4 SBD tokens from alice.'), 1);
  } finally {
    await alice.unroute('**/sbd_tokens/send');
  }
});

test('markup in a note is shown as text and never runs', { timeout: kTestTimeoutMs }, async () => {
  const alice = pages.alice.page;
  const bob = pages.bob.page;
  await send(alice, 'bob', 1, kXssNote);
  await waitForText(bob, '#notifications li', { includes: 'You received 1 SBD token from alice.' });
  await waitForText(bob, '#notifications li .detail', `Note: ${kXssNote}`);
  await waitForText(bob, '#transactions li .tx-note', kXssNote);
  await waitForText(alice, '#transactions li .tx-note', kXssNote);
  for (const page of [alice, bob]) {
    assert.equal(await page.evaluate(() => window.__xss), undefined);
    assert.equal(await page.locator('#notifications img, #transactions img, #notifications script, #transactions script').count(), 0);
  }
});

test('both pages reconnect by themselves after a server restart and catch up', { timeout: kTestTimeoutMs }, async () => {
  const alice = pages.alice.page;
  const bob = pages.bob.page;
  const port = server.port;

  await stopServer(server);
  await waitForConnection(alice, 'reconnecting');
  await waitForConnection(bob, 'reconnecting');
  // Bob's browser also goes offline, so a transfer to him happens while his
  // page cannot be connected: it must come from the `since` replay.
  await pages.bob.context.setOffline(true);
  await waitForConnection(bob, 'offline', kReconnectWaitMs);
  // Same database, same port, no --demo: the accounts are in the log.
  server = await startServer(`127.0.0.1:${port}`, { demo: false });
  await waitForConnection(alice, 'connected', kReconnectWaitMs);

  const carolSend = await apiCall('carol', 'POST', '/sbd_tokens/send', { to_user: 'bob', amount: 7, note: 'while you were away' });
  assert.equal(carolSend.status, 200, JSON.stringify(carolSend.body));
  await sleep(300);
  assert.equal(await countNotifications(bob, 'You received 7 SBD tokens from carol.'), 0);

  await pages.bob.context.setOffline(false);
  await waitForConnection(bob, 'connected', kReconnectWaitMs);
  await waitForText(bob, '#notifications li', { includes: 'You received 7 SBD tokens from carol.' });
  await waitForText(bob, '#balance', String(await balanceOf('bob')));
  const bobSockets = pages.bob.requests.filter((url) => url.startsWith('ws:'));
  assert.match(bobSockets.at(-1), /[?&]since=\d+/, 'bob resumed with since');

  const aliceBefore = await balanceOf('alice');
  const bobBefore = await balanceOf('bob');
  await send(bob, 'alice', 10, 'after the restart');
  await waitForText(alice, '#notifications li', { includes: 'You received 10 SBD tokens from bob.' });
  await waitForText(alice, '#balance', String(aliceBefore + 10));
  await waitForText(bob, '#balance', String(bobBefore - 10));
  await waitForText(bob, '#notifications li', { includes: 'You sent 10 SBD tokens to alice.' });

  // Each message once: the resume neither lost nor repeated any.
  await sleep(500);
  assert.equal(await countNotifications(bob, 'You received 7 SBD tokens from carol.'), 1);
  assert.equal(await countNotifications(bob, 'You received 25 SBD tokens from alice.'), 1);
  assert.equal(await countNotifications(alice, 'You sent 25 SBD tokens to bob.'), 1);
  assert.equal(await countNotifications(alice, 'You received 10 SBD tokens from bob.'), 1);
  for (const page of [alice, bob]) assert.equal(await page.evaluate(() => window.__sameDocument), true);
  await screenshot('bob', 'bob-after-restart');
});

test('sign in by pasting a token, stay signed in over a reload, sign out', { timeout: kTestTimeoutMs }, async () => {
  const carol = await openPage('carol', `${base()}/`);
  await carol.locator('#signin').waitFor({ state: 'visible' });
  await waitForConnection(carol, 'offline');

  await carol.fill('#token-input', 'not-a-token');
  await carol.click('#signin-button');
  await waitForText(carol, '#signin-error', { includes: 'not accepted' });

  await carol.fill('#token-input', tokens.carol);
  await carol.click('#signin-button');
  await waitForText(carol, '#username', 'carol');
  await waitForText(carol, '#balance', String(await balanceOf('carol')));
  await waitForConnection(carol, 'connected');

  await carol.reload();
  await waitForText(carol, '#username', 'carol');
  await waitForConnection(carol, 'connected');

  await carol.click('#sign-out');
  await carol.locator('#signin').waitFor({ state: 'visible' });
  assert.equal(await carol.evaluate(() => sessionStorage.length), 0);
  await waitForConnection(carol, 'offline');
});

test('a page whose token expires signs out and says why', { timeout: kTestTimeoutMs }, async () => {
  const shortLived = await token('carol', 4);
  const page = await openPage('carol-expiring', `${base()}/#token=${shortLived}`);
  await waitForText(page, '#username', 'carol');
  await waitForConnection(page, 'connected');
  await page.locator('#signin').waitFor({ state: 'visible', timeout: kReconnectWaitMs });
  await waitForText(page, '#signin-error', { includes: 'expired' });
  await waitForConnection(page, 'offline');
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
});

test('the pages made no request but to their own server and raised no error', { timeout: kTestTimeoutMs }, async () => {
  for (const [name, entry] of Object.entries(pages)) {
    const foreign = entry.requests.filter((url) => !url.startsWith(`http://127.0.0.1:${server.port}/`) &&
                                                  !url.startsWith(`ws://127.0.0.1:${server.port}/`) &&
                                                  !url.startsWith('data:'));
    assert.deepEqual(foreign, [], `${name} requested other origins`);
    assert.deepEqual(entry.errors, [], `${name} raised errors`);
  }
});
