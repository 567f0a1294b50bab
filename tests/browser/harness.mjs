// What the browser tests share: the real sbd-ledger server as a child
// process (started on a free port, stopped with SIGTERM, every wait
// bounded), tokens from `sbd-ledger token`, and Debian's Chromium launched
// headless with the flags this machine's closed network needs.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

export const binary = process.env.SBD_LEDGER_BIN;
export const chromiumPath = process.env.SBD_CHROMIUM || '/usr/bin/chromium';

const kStartTimeoutMs = 20000;  // Server start until "listening on".
const kStopTimeoutMs = 10000;   // SIGTERM until exit.

const run = promisify(execFile);

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Starts `sbd-ledger serve --db dbPath --listen listen ...extraArgs` signing
// with `secret`; resolves to {child, port, log()} once it prints its address.
export async function startServer({ dbPath, listen, secret, extraArgs = [] }) {
  const args = ['serve', '--db', dbPath, '--listen', listen, ...extraArgs];
  const child = spawn(binary, args, {
    env: { ...process.env, SBD_JWT_SECRET: secret },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const append = (chunk) => {
    output = (output + chunk.toString()).slice(-65536);
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not print "listening on" within ${kStartTimeoutMs} ms:\n${output}`));
    }, kStartTimeoutMs);
    const check = () => {
      const match = /listening on [^\s:]+:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout.on('data', check);
    child.stderr.on('data', check);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited (code ${code}, signal ${signal}) before listening:\n${output}`));
    });
  });
  return { child, port, log: () => output };
}

// SIGTERM, then at most kStopTimeoutMs for the exit (SIGKILL and an error
// after that); resolves to {code, signal}.
export async function stopServer(target) {
  if (!target || target.child.exitCode !== null || target.child.signalCode !== null) return;
  const exited = new Promise((resolve) => target.child.once('exit', (code, signal) => resolve({ code, signal })));
  target.child.kill('SIGTERM');
  const result = await Promise.race([exited, sleep(kStopTimeoutMs).then(() => null)]);
  if (result === null) {
    target.child.kill('SIGKILL');
    await exited;
    throw new Error(`server did not exit within ${kStopTimeoutMs} ms of SIGTERM:\n${target.log()}`);
  }
  return result;
}

// A JWT for `user` from `sbd-ledger token`, signed with `secret`.
export async function mintToken(secret, user, { ttlSeconds, admin } = {}) {
  const args = ['token', '--user', user];
  if (ttlSeconds !== undefined) args.push('--ttl', String(ttlSeconds));
  if (admin) args.push('--admin');
  const { stdout } = await run(binary, args, {
    env: { ...process.env, SBD_JWT_SECRET: secret },
    timeout: 10000,
  });
  const jwt = stdout.trim().split(/\s+/).pop();
  assert.match(jwt, /^[\w-]+\.[\w-]+\.[\w-]+$/, `sbd-ledger token printed no JWT: ${stdout}`);
  return jwt;
}

export function launchChromium() {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    timeout: 30000,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}
