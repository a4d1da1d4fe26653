// SafeSession added to a team: what people see when they @mention it in a channel.
'use strict';

const assert = require('node:assert/strict');
const { after, afterEach, before, describe, test } = require('node:test');
const { Playground, commandsFor, isCard } = require('../playground');

const LABEL = 'team_channel';

/** A command the manifest offers only in the personal chat ('cancel' while there is one). */
function personalOnlyCommand() {
  const inTeams = new Set(commandsFor('team').map((command) => command.title));
  const personalOnly = commandsFor('personal').filter((command) => !inTeams.has(command.title));
  assert.ok(personalOnly.length > 0, 'the manifest has a personal-only command');
  return (personalOnly.find((command) => command.title === 'cancel') || personalOnly[0]).title;
}

describe('the bot in a team channel', { timeout: 120_000 }, () => {
  let playground;

  before(async () => {
    playground = await Playground.open(LABEL);
    await playground.hideLogPanel();
    await playground.openChannel('General');
  });

  afterEach(async (t) => {
    await playground?.saveIfFailed(t);
  });

  after(async () => {
    await playground?.close();
  });

  test('@mentioning it with help answers in the thread with the help card', async () => {
    const reply = await playground.postMentioningBot('help');
    assert.ok(await isCard(reply));
    assert.match(await reply.innerText(), /What I can do/);
    await playground.screenshot('channel-help');
  });

  test('a personal-only command gets a hint to use the personal chat', async () => {
    const reply = await playground.postMentioningBot(personalOnlyCommand());
    assert.ok(!(await isCard(reply)));
    assert.match(await reply.innerText(), /personal chat/);
    await playground.screenshot('channel-personal-only');
  });
});
