// Drives the Microsoft 365 Agents Playground (its Teams view) in headless Chromium, as a worker
// would: type in the chat, press card buttons, pick a date on the calendar, tick a choice, post
// in a channel. Scenarios in scenarios/*.test.js use this; add a helper here when a new journey
// needs a new gesture.
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
const VIEWPORT = { width: 1280, height: 1000 };
const LOOPBACK = /^(https?|wss?):\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\//;
// A UK worker's machine: the calendar's "today" and the clock are UK ones, as the bot's are, and
// the cards show UK dates and a 24-hour clock.
const TIMEZONE = 'Europe/London';
const LOCALE = 'en-GB';
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August',
  'September', 'October', 'November', 'December'];

/** The Playground's name for the bot under test. */
const BOT_NAME = 'Test Bot';
/** The Playground's signed-in user: the worker, the admin and the manager (see run.js). */
const USER_NAME = process.env.E2E_USER_NAME || 'Alex Wilber';
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

/** Every command the bot's table answers, as the welcome and help cards list them. */
function allCommands() {
  return JSON.parse(fs.readFileSync(path.join(OUT, 'commands.json'), 'utf8'));
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
    const page = await browser.newPage({
      viewport: VIEWPORT, timezoneId: TIMEZONE, locale: LOCALE,
    });
    page.setDefaultTimeout(REPLY_MS); // a click on something that never appears fails as soon
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
    this.failuresSeen = 0;
  }

  /**
   * Runs a step; if it fails, saves what the page showed then to build/e2e/failure-*.png.
   * `waitingFor`, if given, says in the error what never came.
   */
  async #step(waitingFor, action) {
    if (action === undefined) [waitingFor, action] = [null, waitingFor];
    try {
      return await action();
    } catch (error) {
      this.failures += 1;
      const name = `failure-${this.label}-${this.failures}`;
      await this.screenshot(name).catch(() => {});
      const note = `${waitingFor ? `\n(waiting for ${waitingFor})` : ''}` +
        `\n(the page at that moment: build/e2e/${name}.png)`;
      error.message += note;
      // The test runner prints the stack, which kept the message as it was when thrown.
      if (typeof error.stack === 'string') error.stack = error.stack.replace(/\n/, `${note}\n`);
      throw error;
    }
  }

  /**
   * For afterEach: when a test failed on an assertion (not on a step, which saved its own), saves
   * the page as it was to build/e2e/failure-*.png too. `expected` lists tests marked todo.
   */
  async saveIfFailed(testContext, { expected = [] } = {}) {
    const stepFailed = this.failures !== this.failuresSeen;
    this.failuresSeen = this.failures;
    if (testContext.passed || stepFailed || expected.includes(testContext.name)) return;
    this.failures += 1;
    this.failuresSeen = this.failures;
    const name = `failure-${this.label}-${this.failures}`;
    await this.screenshot(name).catch(() => {});
    testContext.diagnostic(`the page at that moment: build/e2e/${name}.png`);
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
    await this.#send(text);
    return this.botMessage(before);
  }

  /** Presses a button on one of the bot's cards; resolves with the bot's next message. */
  async press(card, title) {
    const before = await this.botMessages().count();
    await card.getByRole('button', { name: title, exact: true }).click();
    return this.botMessage(before);
  }

  /**
   * Types a message and waits for the bot to answer with one containing `expected` (text or a
   * RegExp); resolves with that message. Anything else the bot says meanwhile (a reminder, the
   * rest of a long answer) is let be, so a step never depends on how many messages came first.
   */
  async say(text, expected) {
    const before = await this.botMessages().count();
    await this.#step(() => this.#send(text));
    return this.botMessageAfter(before, expected);
  }

  /** Presses a card's button and waits for the bot's message containing `expected`. */
  async pressFor(card, title, expected) {
    const before = await this.botMessages().count();
    await this.#step(() => card.getByRole('button', { name: title, exact: true }).click());
    return this.botMessageAfter(before, expected);
  }

  /** Waits for a message from the bot, number `before` or later, containing `expected`. */
  async botMessageAfter(before, expected) {
    const pattern = expected instanceof RegExp ? expected : new RegExp(escapeRegExp(expected));
    const found = await this.#step(`the bot to say ${pattern}`, () => this.page.waitForFunction(
      ([selector, from, source, flags]) => {
        const wanted = new RegExp(source, flags);
        const nodes = [...document.querySelectorAll(selector)];
        const index = nodes.findIndex((node, i) => i >= from && wanted.test(node.innerText));
        return index >= 0 ? { index } : null;
      },
      [BOT_MESSAGE, before, pattern.source, pattern.flags],
      { timeout: REPLY_MS },
    ));
    const { index } = await found.jsonValue();
    const message = this.botMessages().nth(index);
    await message.scrollIntoViewIfNeeded();
    return message;
  }

  async #send(text) {
    const box = this.page.locator('[role="textbox"][contenteditable="true"]').last();
    await box.click();
    await this.page.keyboard.type(text);
    await this.page.getByRole('button', { name: 'Send Message' }).last().click();
  }

  // -- filling a card, as a worker would --------------------------------------------------

  /**
   * Picks a day on an Input.Date's calendar popup: opens it, goes to the year and month (through
   * the popup's month and year views, as a person would for a date of birth) and clicks the day.
   * `day` is 'YYYY-MM-DD'; `screenshot` names a screenshot taken with the calendar open.
   */
  async pickDate(card, day, { screenshot } = {}) {
    return this.#step(() => this.#pickDate(card, day, screenshot));
  }

  async #pickDate(card, day, screenshot) {
    const [year, month, date] = day.split('-').map(Number);
    const label = `${date}, ${MONTHS[month - 1]}, ${year}`;
    await card.locator('[role="combobox"] + [role="button"]').click();
    const calendar = this.page.getByRole('dialog', { name: 'Calendar' });
    await calendar.waitFor({ timeout: REPLY_MS });
    const dayButton = calendar.getByRole('button', { name: label, exact: true });
    if ((await dayButton.count()) === 0) {
      // The header names what the calendar shows; pressing it goes up a level: days, months, years.
      const yearShown = calendar.getByRole('button', { name: /^\d{4}$/ });
      const yearsShown = calendar.getByRole('button', { name: /^\d{4} - \d{4}$/ });
      await calendar.locator('button[aria-label]').first().click();
      await yearShown.waitFor();
      if ((await yearShown.getAttribute('aria-label')) !== String(year)) {
        await yearShown.click();
        await yearsShown.waitFor();
        const arrows = calendar.locator('button:not([aria-label]):not([role])'); // unnamed
        for (let pages = 0; pages < 20; pages += 1) {
          const shown = await yearsShown.getAttribute('aria-label');
          const [from, to] = shown.split(' - ').map(Number);
          if (year >= from && year <= to) break;
          await arrows.nth(year < from ? 0 : 1).click();
          const moved = new RegExp(`^(?!${shown}$)\\d{4} - \\d{4}$`);
          await calendar.getByRole('button', { name: moved }).waitFor();
        }
        await calendar.getByRole('gridcell', { name: String(year), exact: true }).click();
      }
      await calendar.getByRole('gridcell', { name: MONTHS[month - 1], exact: true }).click();
    }
    await dayButton.hover();
    if (screenshot) await this.page.screenshot({ path: path.join(OUT, `${screenshot}.png`) });
    await dayButton.click();
    await calendar.waitFor({ state: 'hidden', timeout: REPLY_MS });
  }

  /**
   * Sets an Input.Time: picks the time from its drop-down list when the list has it (every half
   * hour), otherwise types it into the box, as Teams lets a person do. `at` is 'HH:MM'.
   */
  async pickTime(card, at) {
    return this.#step(() => this.#pickTime(card, at));
  }

  async #pickTime(card, at) {
    const box = card.getByRole('combobox');
    await card.getByRole('button', { name: 'Open' }).click();
    const list = this.page.locator('.fui-TimePicker__listbox');
    await list.waitFor({ timeout: REPLY_MS });
    const labels = await list.getByRole('option').allInnerTexts();
    const index = labels.findIndex((text) => clockTime(text) === at);
    if (index >= 0) {
      await list.getByRole('option').nth(index).click();
    } else {
      await this.page.keyboard.press('Escape');
      await box.fill(at);
      await box.press('Tab');
    }
    // The box shows the time as the picker formats it ("2:30 PM"); wait until it reads `at`.
    await this.page.waitForFunction(
      ([node, want]) => {
        const match = /^\s*(\d{1,2}):(\d{2})\s*([AP]M)?\s*$/i.exec(node.value || '');
        if (!match) return false;
        let hour = Number(match[1]) % (match[3] ? 12 : 24);
        if (match[3] && match[3].toUpperCase() === 'PM') hour += 12;
        return `${String(hour).padStart(2, '0')}:${match[2]}` === want;
      },
      [await box.elementHandle(), at],
      { timeout: REPLY_MS },
    );
  }

  /** Ticks options of an Input.ChoiceSet (radio buttons or tick boxes) by what they say. */
  async choose(card, ...titles) {
    return this.#step(async () => {
      for (const title of titles) await this.#tick(card, title);
    });
  }

  /** Clicks the words beside a radio button or tick box, and checks it took. */
  async #tick(card, title) {
    const label = card.locator('label').filter({ hasText: new RegExp(`^${escapeRegExp(title)}$`) });
    const input = card.locator(`input[id="${await label.getAttribute('for')}"]`);
    if (!(await input.isChecked())) await label.click();
    if (!(await input.isChecked())) throw new Error(`"${title}" did not tick`);
  }

  /** Types into a card's text input, found by its label. */
  async fill(card, label, text) {
    const input = card.getByLabel(new RegExp(`^${escapeRegExp(label)}`)).first();
    return this.#step(() => input.fill(text));
  }

  /** Turns on an Input.Toggle, found by its title. */
  async toggle(card, title) {
    return this.#step(() => this.#tick(card, title));
  }

  /** Opens the personal chat with the bot (from a channel, say). */
  async openPersonalChat() {
    await this.#step(async () => {
      await this.page.getByRole('treeitem', { name: /^Personal Chat/ }).click();
      await this.page.locator('.fai-OutputCard').first().waitFor({ timeout: REPLY_MS });
    });
  }

  /** A post in the open channel containing `text` (the bot's own posts included). */
  async channelPost(text) {
    const post = this.page.locator(CHANNEL_POST).filter({ hasText: text }).first();
    await this.#step(() => post.waitFor({ state: 'visible', timeout: REPLY_MS }));
    return post;
  }

  /** Opens a team channel ('General' in 'My Team'). */
  async openChannel(name = 'General', team = 'My Team') {
    await this.#step(async () => {
      await this.page.getByRole('treeitem', { name: `${team} - ${name}` }).click();
      await this.page.getByText('Start a new post').waitFor({ timeout: REPLY_MS });
    });
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

  /**
   * Saves a screenshot of the window made tall enough to show `message` whole (a long message
   * such as the pre-session one), from the message before it.
   */
  async screenshotWhole(name, message) {
    const box = await message.boundingBox();
    const height = Math.min(2400, Math.max(VIEWPORT.height, Math.ceil(box.height) + 400));
    await this.page.setViewportSize({ width: VIEWPORT.width, height });
    try {
      await message.evaluate((node) => node.scrollIntoView({ block: 'end' }));
      await this.screenshot(name);
    } finally {
      await this.page.setViewportSize(VIEWPORT);
    }
  }
}

/**
 * The UK date and time `minutes` from now, as the bot reads them: { day: 'YYYY-MM-DD',
 * time: 'HH:MM' }.
 */
function ukNow(minutes = 0) {
  const format = new Intl.DateTimeFormat('en-GB', {
    timeZone: TIMEZONE, year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  });
  const moment = new Date(Date.now() + minutes * 60_000);
  const part = Object.fromEntries(format.formatToParts(moment).map((p) => [p.type, p.value]));
  return { day: `${part.year}-${part.month}-${part.day}`, time: `${part.hour}:${part.minute}` };
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Reads a time as a time picker shows it ("2:30 PM", "14:30") as 'HH:MM', or null. */
function clockTime(text) {
  const match = /^\s*(\d{1,2}):(\d{2})\s*([AP]M)?\s*$/i.exec(text || '');
  if (!match) return null;
  let hour = Number(match[1]) % (match[3] ? 12 : 24);
  if (match[3] && match[3].toUpperCase() === 'PM') hour += 12;
  return `${String(hour).padStart(2, '0')}:${match[2]}`;
}

/** The text of each fact title in a card's FactSet, in order (the command lists). */
async function factTitles(card) {
  return (await card.locator('.ac-fact-title').allInnerTexts()).map((text) => text.trim());
}

/** Whether a message is an Adaptive Card (rather than plain text). */
async function isCard(message) {
  return (await message.locator('.ac-adaptiveCard').count()) === 1;
}

module.exports = {
  Playground, USER_NAME, allCommands, commandsFor, factTitles, isCard, ukNow,
};
