// Drives the Microsoft 365 Agents Playground (its Teams view) in headless Chromium, as a worker
// would: type in the chat, press card buttons, post in a channel. Scenarios in scenarios/*.test.js
// use this; add a helper here when a new journey needs one (a date picker, a choice set, ...).
//
// Each scenario file opens its own Playground server: the Playground keeps one personal
// conversation per server, so a fresh server is a fresh install, welcomed as a new worker would be.
'use strict';

const { spawn } = require('child_process');
const fs = require('fs');
const http = require('http');
const net = require('net');
const path = require('path');
const { chromium } = require('playwright-core');

const ROOT = path.resolve(__dirname, '..', '..');
const OUT = process.env.E2E_OUT || path.join(ROOT, 'build', 'e2e');
const CHROMIUM = process.env.E2E_CHROMIUM || '/usr/bin/chromium';
const BOT_ENDPOINT = process.env.E2E_BOT_ENDPOINT || 'http://127.0.0.1:3978/api/messages';
const PLAYGROUND_CLI = path.join(ROOT, 'node_modules', '@microsoft', 'm365agentsplayground', 'cli.js');
const STARTUP_MS = 60_000;
const REPLY_MS = 20_000;
const LOOPBACK = /^(https?|wss?):\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\//;

/** The Playground's name for the bot under test. */
const BOT_NAME = 'Test Bot';
/** A post in a channel, with its thread of replies. */
const CHANNEL_POST = '[role="group"].fui-Card';
/** The bot's replies in a channel post's thread, from the post. */
const THREAD_REPLY = `:scope > div:has([role="img"][aria-label="${BOT_NAME}"])`;
/** The bot's messages, oldest first: chat bubbles, or replies in a channel post's thread. */
const BOT_MESSAGE = [
  '.fai-OutputCard',
  `${CHANNEL_POST} > div:has([role="img"][aria-label="${BOT_NAME}"])`,
].join(', ');

/** The manifest the run was built with (written by run.js), for its command lists. */
function manifest() {
  return JSON.parse(fs.readFileSync(path.join(OUT, 'manifest.json'), 'utf8'));
}

/** Command titles Teams lists for a scope ('personal' or 'team'). */
function commandsFor(scope) {
  const lists = manifest().bots[0].commandLists;
  return lists.filter((list) => list.scopes.includes(scope)).flatMap((list) => list.commands);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function statusOf(url) {
  return new Promise((resolve) => {
    const request = http.get(url, { timeout: 2000 }, (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    request.on('error', () => resolve(0));
    request.on('timeout', () => { request.destroy(); resolve(0); });
  });
}

/** Starts a Playground server talking to the bot; its log goes to build/e2e/playground-<label>.log. */
async function startServer(label) {
  const port = await freePort();
  const logFile = path.join(OUT, `playground-${label}.log`);
  fs.mkdirSync(OUT, { recursive: true });
  const log = fs.openSync(logFile, 'w');
  const child = spawn(process.execPath, [
    PLAYGROUND_CLI, 'start', '-p', String(port), '-e', BOT_ENDPOINT, '-c', 'msteams',
    '--disable-telemetry',
  ], {
    cwd: OUT, // it writes devTools/ beside itself
    env: { ...process.env, TEAMSAPPTESTER_BROWSER: 'none' },
    stdio: ['ignore', log, log], // in this process's group, so run.js can stop it with the rest
  });
  let exited = false;
  child.on('exit', () => { exited = true; });
  const stop = () => { if (!exited) child.kill('SIGKILL'); };
  process.on('exit', stop);
  const url = `http://127.0.0.1:${port}/`;
  const deadline = Date.now() + STARTUP_MS;
  while (!exited && Date.now() < deadline) {
    if ((await statusOf(url)) === 200) return { url, stop };
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  stop();
  throw new Error(`the Agents Playground did not start:\n${fs.readFileSync(logFile, 'utf8')}`);
}

class Playground {
  /** Starts a Playground for one scenario file and opens its Teams view in Chromium. */
  static async open(label) {
    const server = await startServer(label);
    try {
      return await Playground.#openPage(server, label);
    } catch (error) {
      server.stop();
      throw error;
    }
  }

  static async #openPage(server, label) {
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ],
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    // The Playground's page asks a CDN for fonts; nothing may leave loopback, so refuse at once.
    await page.route((url) => !LOOPBACK.test(url.href), (route) => route.abort());
    await page.goto(server.url);
    await page.locator('[role="textbox"][contenteditable="true"]').last().waitFor();
    return new Playground(server, browser, page, label);
  }

  constructor(server, browser, page, label) {
    this.server = server;
    this.browser = browser;
    this.page = page;
    this.label = label;
    this.failures = 0;
  }

  /** Runs a step; if it fails, saves what the page showed then to build/e2e/failure-*.png. */
  async #step(action) {
    try {
      return await action();
    } catch (error) {
      this.failures += 1;
      const name = `failure-${this.label}-${this.failures}`;
      await this.screenshot(name).catch(() => {});
      error.message += `\n(the page at that moment: build/e2e/${name}.png)`;
      throw error;
    }
  }

  async close() {
    try {
      await this.browser.close();
    } finally {
      this.server.stop();
    }
  }

  /** Everything the bot has said in the open conversation. */
  botMessages() {
    return this.page.locator(BOT_MESSAGE);
  }

  /** Waits for the bot's message number `index` (0 = first) and returns it. */
  async botMessage(index) {
    const message = this.botMessages().nth(index);
    await this.#step(() => message.waitFor({ state: 'visible', timeout: REPLY_MS }));
    return message;
  }

  /** Waits for a message or card from the bot containing `text`, and returns it. */
  async botSays(text) {
    const message = this.botMessages().filter({ hasText: text }).last();
    await this.#step(() => message.waitFor({ state: 'visible', timeout: REPLY_MS }));
    return message;
  }

  /** Types into the open chat's message box and sends; resolves with the bot's next message. */
  async type(text) {
    const before = await this.botMessages().count();
    const box = this.page.locator('[role="textbox"][contenteditable="true"]').last();
    await box.click();
    await this.page.keyboard.type(text);
    await this.page.getByRole('button', { name: 'Send Message' }).last().click();
    return this.botMessage(before);
  }

  /** Presses a button on one of the bot's cards; resolves with the bot's next message. */
  async press(card, title) {
    const before = await this.botMessages().count();
    await card.getByRole('button', { name: title, exact: true }).click();
    return this.botMessage(before);
  }

  /** Opens a team channel ('General' in 'My Team'). */
  async openChannel(name = 'General', team = 'My Team') {
    await this.page.getByRole('treeitem', { name: `${team} - ${name}` }).click();
    await this.page.getByText('Start a new post').waitFor({ timeout: REPLY_MS });
  }

  /** Starts a channel post @mentioning the bot, as Teams needs; resolves with the bot's reply. */
  async postMentioningBot(text) {
    return this.#step(() => this.#postMentioningBot(text));
  }

  async #postMentioningBot(text) {
    const posts = this.page.locator(CHANNEL_POST);
    // Mark the posts already there, so the new one can be told apart wherever it lands.
    await posts.evaluateAll((nodes) => nodes.forEach((node) => node.setAttribute('data-e2e-seen', '')));
    const box = this.page.locator('[role="textbox"][contenteditable="true"]').first();
    await box.click();
    await this.page.keyboard.type('@');
    await this.page.getByRole('menuitem', { name: BOT_NAME }).click();
    await this.#waitForText(box, BOT_NAME);
    await this.page.keyboard.type(` ${text}`);
    await this.#waitForText(box, `${BOT_NAME} ${text}`);
    await this.page.getByRole('button', { name: 'Post', exact: true }).click();
    const post = this.page.locator(`${CHANNEL_POST}:not([data-e2e-seen])`);
    await post.waitFor({ timeout: REPLY_MS });
    const reply = post.locator(THREAD_REPLY).first();
    await reply.waitFor({ state: 'visible', timeout: REPLY_MS });
    await reply.scrollIntoViewIfNeeded();
    return reply;
  }

  /** Waits until a message box holds exactly `expected` (white space folded). */
  async #waitForText(box, expected) {
    const handle = await box.elementHandle();
    await this.page.waitForFunction(
      ([node, want]) => node.innerText.replace(/\s+/g, ' ').trim() === want,
      [handle, expected],
      { timeout: REPLY_MS },
    );
  }

  /** Hides the Playground's own log panel (open on start), so screenshots show what Teams shows. */
  async hideLogPanel() {
    const hide = this.page.getByTitle('Hide log panel', { exact: true });
    await hide.waitFor({ state: 'visible', timeout: REPLY_MS });
    await hide.click();
    await hide.waitFor({ state: 'hidden', timeout: REPLY_MS });
  }

  /** Reloads the page: the Playground sends the same chat's install events again. */
  async reload() {
    await this.page.reload();
    await this.page.locator('[role="textbox"][contenteditable="true"]').last().waitFor();
  }

  /** Saves a screenshot of the whole window to build/e2e/<name>.png. */
  async screenshot(name) {
    fs.mkdirSync(OUT, { recursive: true });
    await this.page.mouse.move(1, 1); // no hover highlight left on the last button pressed
    await this.page.screenshot({ path: path.join(OUT, `${name}.png`) });
  }
}

/** The text of each fact title in a card's FactSet, in order (the command lists). */
async function factTitles(card) {
  return (await card.locator('.ac-fact-title').allInnerTexts()).map((text) => text.trim());
}

/** Whether a message is an Adaptive Card (rather than plain text). */
async function isCard(message) {
  return (await message.locator('.ac-adaptiveCard').count()) === 1;
}

module.exports = { Playground, commandsFor, factTitles, isCard };
