#!/usr/bin/env node
// Runs the end-to-end suite: the bot (local mode, a fresh temporary store), and for each scenario
// file its own Microsoft 365 Agents Playground driven by headless Chromium (tests/e2e/playground.js),
// all on loopback.
//
// `make e2e` starts this inside `unshare -n`: a network namespace whose only interface is
// loopback, so nothing can leave the machine. Run directly, it refuses unless that is so.
// Nothing here skips: a missing browser, package or service is a failure with its reason.
'use strict';

const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..', '..');
const OUT = path.join(ROOT, 'build', 'e2e');
const BOT_PORT = Number(process.env.E2E_BOT_PORT || 3978);
const CHROMIUM = process.env.E2E_CHROMIUM || '/usr/bin/chromium';
const PYTHON = path.join(ROOT, '.venv', 'bin', 'python');
const PLAYGROUND_CLI = path.join(ROOT, 'node_modules', '@microsoft', 'm365agentsplayground', 'cli.js');
// The tenant the Playground puts on every activity; the bot runs with only it allowed, as a real
// deployment runs with only its own organisation's tenant.
const PLAYGROUND_TENANT = '00000000-0000-0000-0000-0000000000001';
// The Playground's signed-in user (its default configuration has one), as the `from.aadObjectId`
// of everything typed or pressed. They are the worker, and also the admin who sets the manager
// channel and the manager who acknowledges an emergency there, so the bot runs with them as both.
const PLAYGROUND_USER = {
  aadObjectId: '00000000-0000-0000-0000-0000000000020',
  name: 'Alex Wilber',
};
const STARTUP_MS = 60_000;
const SUITE_MS = Number(process.env.E2E_SUITE_SECONDS || 480) * 1000;

function fail(message) {
  console.error(`e2e: ${message}`);
  process.exit(1);
}

function checkPreconditions() {
  const interfaces = Object.keys(os.networkInterfaces());
  if (interfaces.some((name) => name !== 'lo') && process.env.E2E_ALLOW_NETWORK !== '1') {
    fail(`this machine's network is visible (${interfaces.join(', ')}); run \`make e2e\`, which ` +
      'runs the suite in a loopback-only network namespace (unshare -n)');
  }
  if (!interfaces.includes('lo')) fail('loopback is down: run `ip link set lo up` first');
  if (!fs.existsSync(CHROMIUM)) {
    fail(`no Chromium at ${CHROMIUM}: install Debian's package (apt-get install chromium)`);
  }
  if (!fs.existsSync(PYTHON)) fail(`no virtualenv at ${PYTHON}: run \`make venv\``);
  if (!fs.existsSync(PLAYGROUND_CLI)) fail('node_modules is missing: run `make node` (npm ci)');
}

function prepareOutput() {
  fs.mkdirSync(OUT, { recursive: true });
  for (const name of fs.readdirSync(OUT)) {
    if (/\.(png|log|json)$/.test(name)) fs.rmSync(path.join(OUT, name));
  }
}

function writeManifest() {
  // The scenarios read the command lists Teams would show from the real manifest, and every
  // command the bot answers (some, like cancel, are kept off Teams' menu) from its table.
  const code = 'import json; from manifest.build import ManifestSettings, build_manifest; ' +
    'from bot.commands import COMMANDS; ' +
    'print(json.dumps({"manifest": build_manifest(ManifestSettings.from_env({})), ' +
    '"commands": [command.name for command in COMMANDS]}))';
  const result = spawnSync(PYTHON, ['-c', code], { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0) fail(`could not build the manifest:\n${result.stderr}`);
  const { manifest, commands } = JSON.parse(result.stdout);
  fs.writeFileSync(path.join(OUT, 'manifest.json'), JSON.stringify(manifest));
  fs.writeFileSync(path.join(OUT, 'commands.json'), JSON.stringify(commands));
}

function start(name, command, args, options) {
  const log = fs.openSync(path.join(OUT, `${name}.log`), 'w');
  const child = spawn(command, args, { ...options, stdio: ['ignore', log, log], detached: true });
  child.on('exit', (code, signal) => {
    child.exited = true;
    if (!child.stopping) console.error(`e2e: ${name} exited early (code ${code}, signal ${signal})`);
  });
  child.label = name;
  return child;
}

function get(url) {
  return new Promise((resolve) => {
    const request = http.get(url, { timeout: 2000 }, (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    request.on('error', () => resolve(0));
    request.on('timeout', () => { request.destroy(); resolve(0); });
  });
}

async function waitFor(child, url) {
  const deadline = Date.now() + STARTUP_MS;
  while (Date.now() < deadline) {
    if (child.exited) return false;
    if ((await get(url)) === 200) return true;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}

function stop(children) {
  for (const child of children) {
    if (child.exited) continue;
    child.stopping = true;
    try { process.kill(-child.pid, 'SIGTERM'); } catch { /* already gone */ }
  }
  const deadline = Date.now() + 5000;
  while (children.some((child) => !child.exited && isAlive(child.pid)) && Date.now() < deadline) {
    spawnSync('sleep', ['0.1']);
  }
  for (const child of children) {
    if (isAlive(child.pid)) try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
  }
}

function isAlive(pid) {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

function tail(name, lines = 40) {
  const file = path.join(OUT, `${name}.log`);
  if (!fs.existsSync(file)) return '';
  return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

function runScenarios() {
  const folder = path.join(__dirname, 'scenarios');
  // `node tests/e2e/run.js team_channel` (or `make e2e E2E=team_channel`) runs only matching files.
  const only = process.argv.slice(2);
  const files = fs.readdirSync(folder)
    .filter((name) => name.endsWith('.test.js'))
    .filter((name) => only.length === 0 || only.some((part) => name.includes(part)))
    .sort();
  if (files.length === 0) fail(`no scenarios in tests/e2e/scenarios match ${only.join(' ') || '*'}`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [
      '--test', '--test-concurrency=1', '--test-reporter=spec', '--test-force-exit',
      ...files.map((name) => path.join(folder, name)),
    ], {
      cwd: ROOT,
      stdio: 'inherit',
      detached: true, // its own process group: a timeout stops every scenario process and browser
      env: {
        ...process.env,
        E2E_BOT_ENDPOINT: `http://127.0.0.1:${BOT_PORT}/api/messages`,
        E2E_OUT: OUT,
        E2E_CHROMIUM: CHROMIUM,
        E2E_USER_NAME: PLAYGROUND_USER.name,
      },
    });
    const killGroup = () => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } };
    process.on('exit', killGroup);
    const timer = setTimeout(() => {
      console.error(`e2e: the scenarios took longer than ${SUITE_MS / 1000}s; stopping them`);
      killGroup();
    }, SUITE_MS);
    child.on('exit', (code) => {
      clearTimeout(timer);
      killGroup(); // anything a scenario left running (a browser, a Playground)
      resolve(code === null ? 1 : code);
    });
  });
}

async function main() {
  checkPreconditions();
  prepareOutput();
  writeManifest();
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'safesession-e2e-'));
  const children = [];
  let status = 1;
  try {
    const bot = start('bot', PYTHON, ['app.py'], {
      cwd: ROOT,
      // Only what the run sets: a developer's own SAFESESSION_* or DATABASE_URL must not leak in.
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME || data,
        LANG: process.env.LANG || 'C.UTF-8',
        SAFESESSION_LOCAL: '1',
        HOST: '127.0.0.1',
        PORT: String(BOT_PORT),
        SAFESESSION_DATA: path.join(data, 'store'),
        SAFESESSION_ALLOWED_TENANTS: PLAYGROUND_TENANT,
        SAFESESSION_ADMINS: PLAYGROUND_USER.aadObjectId,
        SAFESESSION_MANAGERS: `${PLAYGROUND_USER.aadObjectId}:${PLAYGROUND_USER.name}`,
        // The scenarios type Ofcom's drama numbers (07700 900123), never real ones.
        SAFESESSION_ALLOW_FICTIONAL_NUMBERS: '1',
        // The scenarios answer a whole journey in seconds, far faster than a person can; the
        // per-conversation flood limit (20 at once, 60 a minute) would otherwise skip answers.
        SAFESESSION_RATE_LIMIT_PER_MINUTE: '600',
        SAFESESSION_RATE_LIMIT_BURST: '200',
        SAFESESSION_DOTENV: path.join(data, 'no.env'), // nor their .env file
        PYTHONUNBUFFERED: '1',
      },
    });
    children.push(bot);
    if (!(await waitFor(bot, `http://127.0.0.1:${BOT_PORT}/healthz`))) {
      throw new Error(`the bot did not become healthy:\n${tail('bot')}`);
    }
    status = await runScenarios();
    if (status !== 0) {
      console.error(`\n--- bot.log (last lines) ---\n${tail('bot')}`);
      console.error(`screenshots and logs: ${path.relative(ROOT, OUT)}/`);
    }
  } catch (error) {
    console.error(`e2e: ${error.message}`);
    status = 1;
  } finally {
    stop(children);
    fs.rmSync(data, { recursive: true, force: true });
  }
  process.exit(status);
}

main();
