// A date that cannot be right, typed into the chat where a card asks for one: the bot says what
// is wrong with it and asks again on a fresh card, and the journey carries on once it is right.
'use strict';

const assert = require('node:assert/strict');
const { after, afterEach, before, describe, test } = require('node:test');
const { Playground, isCard, ukNow } = require('../playground');

const LABEL = 'bad_date';
const QUESTION = 'And their date of birth';

describe('a bad date of birth is asked for again', { timeout: 120_000 }, () => {
  let playground;

  before(async () => {
    playground = await Playground.open(LABEL);
    await playground.botMessage(0); // the welcome
    await playground.hideLogPanel();
    await playground.say('new service user', 'Which case reference');
    await playground.say('CR-2002', "service user's full name");
    await playground.say('Jo Example', QUESTION);
  });

  afterEach(async (t) => {
    await playground?.saveIfFailed(t);
  });

  after(async () => {
    await playground?.close();
  });

  test('a day that does not exist (31/02/2015) gets its own re-prompt, on a new card', async () => {
    const again = await playground.say('31/02/2015', "That date doesn't exist on the calendar");
    assert.ok(await isCard(again), 'the question is asked again on a card');
    assert.match(await again.innerText(), new RegExp(QUESTION));
    await playground.screenshot('bad-date-impossible');
  });

  test('a date of birth in the future gets its own re-prompt', async () => {
    const nextYear = Number(ukNow().day.slice(0, 4)) + 1;
    const again = await playground.say(
      `01/06/${nextYear}`,
      "A date of birth can't be in the future",
    );
    assert.ok(await isCard(again), 'the question is asked again on a card');
    assert.match(await again.innerText(), new RegExp(QUESTION));
    await playground.screenshot('bad-date-future');
  });

  test('the right date, picked on the re-prompt card, carries the journey on', async () => {
    const card = await playground.botSays("A date of birth can't be in the future");
    await playground.pickDate(card, '2016-07-04');
    const next = await playground.pressFor(card, 'Send', 'who is their parent or guardian');
    assert.match(await next.innerText(), /They're under 18/);
    await playground.say('cancel', 'Everything you');
  });
});
