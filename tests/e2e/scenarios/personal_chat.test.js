// A worker's personal chat with SafeSession, as the Teams client shows it.
'use strict';

const assert = require('node:assert/strict');
const { after, afterEach, before, describe, test } = require('node:test');
const { Playground, allCommands, commandsFor, factTitles, isCard } = require('../playground');

const LABEL = 'personal_chat';

describe('a worker in their personal chat', { timeout: 120_000 }, () => {
  let playground;

  before(async () => {
    playground = await Playground.open(LABEL);
  });

  afterEach(async (t) => {
    await playground?.saveIfFailed(t);
  });

  after(async () => {
    await playground?.close();
  });

  test('is welcomed with a card listing the commands when the app is installed', async () => {
    const welcome = await playground.botMessage(0);
    assert.ok(await isCard(welcome), 'the welcome is an Adaptive Card');
    assert.match(await welcome.innerText(), /Welcome to SafeSession/);
    const listed = new Set(await factTitles(welcome));
    assert.deepEqual(listed, new Set(allCommands()), 'the welcome lists every command');
    const offered = [...commandsFor('personal'), ...commandsFor('team')].map((c) => c.title);
    for (const title of offered) assert.ok(listed.has(title), `the welcome lists ${title}`);
    await playground.hideLogPanel();
    await playground.screenshot('welcome');
  });

  test('typing help shows the help card', async () => {
    const reply = await playground.type('help');
    assert.ok(await isCard(reply), 'help is an Adaptive Card');
    assert.match(await reply.innerText(), /What I can do/);
    assert.match(await reply.innerText(), /call 999 first/);
    await playground.screenshot('help');
  });

  test("the welcome card's Help button shows the help card too", async () => {
    const welcome = await playground.botMessage(0);
    const reply = await playground.press(welcome, 'Help');
    assert.ok(await isCard(reply));
    assert.match(await reply.innerText(), /What I can do/);
  });

  test('anything else gets a short hint, not silence', async () => {
    const reply = await playground.type('what time is it');
    assert.ok(!(await isCard(reply)), 'the hint is plain text');
    assert.match(await reply.innerText(), /didn.t recognise that\. Type help/);
    await playground.screenshot('hint');
  });

  test('opening the chat again does not repeat the welcome', async () => {
    await playground.reload();
    const reply = await playground.type('help');
    assert.match(await reply.innerText(), /What I can do/);
    await playground.page.waitForTimeout(1500);
    const texts = await playground.botMessages().allInnerTexts();
    assert.equal(texts.filter((text) => text.includes('Welcome to SafeSession')).length, 0);
  });
});
