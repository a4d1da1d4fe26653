// A worker's day with SafeSession, as the Teams client shows it: set up a service user, plan an
// introductory session and start it, by filling the cards the bot sends (the calendar, the time
// list, the choices, the buttons) and typing where it asks for text; then an emergency, posted
// into the manager channel and acknowledged there.
//
// The Playground has one signed-in user, so the same person is the worker, the admin who sets
// the manager channel and the manager who acknowledges (run.js configures the bot so).
'use strict';

const assert = require('node:assert/strict');
const { after, afterEach, before, describe, test } = require('node:test');
const { Playground, USER_NAME, isCard, ukNow } = require('../playground');

const LABEL = 'session_journey';
const CASE = 'CR-1042';
const CHILD = 'Alex Example';
const BORN = '2015-03-12';
const WORK_MOBILE = '07700 900456';
const WORKER_NAME = 'Sam Worker';
const ADDRESS = 'Flat 1, 1 Synthetic Street, Exampleton, ZE9 9ZZ';
const SAFE_WORD = 'bluebird';
const PRE_SESSION_LINES = 'the pre-session message keeps its lines, so it can be copied as it is';

/** Some days before `day` ('YYYY-MM-DD'), for a risk assessment already done. */
function daysBefore(day, days) {
  const moment = new Date(`${day}T12:00:00Z`);
  moment.setUTCDate(moment.getUTCDate() - days);
  return moment.toISOString().slice(0, 10);
}

/**
 * A start time later today (UK), at least two minutes ahead: the next half hour on the time
 * picker's list when there is one today, otherwise the minute itself (typed into the picker).
 */
function sessionTime() {
  const soon = ukNow(2);
  const [hour, minute] = soon.time.split(':').map(Number);
  const slot = Math.ceil((hour * 60 + minute) / 30) * 30;
  if (slot >= 24 * 60) return soon.time;
  return `${String(Math.floor(slot / 60)).padStart(2, '0')}:${String(slot % 60).padStart(2, '0')}`;
}

/**
 * Planning and starting must fall on the same UK day (a session is started on its day). Within a
 * few minutes of midnight, wait for the new day rather than plan a session that is over by then.
 */
async function notJustBeforeMidnight() {
  if (ukNow(4).day === ukNow().day) return;
  const today = ukNow().day;
  while (ukNow().day === today) await new Promise((resolve) => setTimeout(resolve, 5000));
}

let playground;

before(async () => {
  playground = await Playground.open(LABEL);
  await playground.botMessage(0); // the welcome
  await playground.hideLogPanel();
});

afterEach(async (t) => {
  await playground?.saveIfFailed(t, { expected: [PRE_SESSION_LINES] });
});

after(async () => {
  await playground?.close();
});

describe('a worker sets up, plans and starts an introductory session', { timeout: 420_000 }, () => {
  test('sets up the service user on the cards: calendar, tick boxes, choices', async () => {
    const p = playground;
    await p.say('new service user', 'Which case reference');
    await p.say(CASE, "service user's full name");
    let card = await p.say(CHILD, 'And their date of birth');
    assert.ok(await isCard(card), 'the date of birth is asked on a card');
    await p.pickDate(card, BORN, { screenshot: 'setup-date-picker' });
    card = await p.pressFor(card, 'Send', 'parent or guardian');
    card = await p.say('Sam Example, mother', 'Who will be taking part');
    await p.fill(card, 'Name', 'Sam Example');
    await p.fill(card, 'Relationship', 'mother');
    await p.toggle(card, 'They consent to us using digital platforms with them');
    card = await p.pressFor(card, 'Add this person', '1 person so far');
    card = await p.pressFor(card, "That's everyone", 'Which platforms');
    await p.choose(card, 'WhatsApp', 'Phone calls and texts');
    card = await p.pressFor(card, 'Send', 'Which of those would they prefer');
    await p.choose(card, 'Phone calls and texts');
    card = await p.pressFor(card, 'Send', 'When was the individual risk assessment');
    await p.pickDate(card, daysBefore(ukNow().day, 6));
    card = await p.pressFor(card, 'Send', 'What level of risk');
    await p.choose(card, 'Low');
    await p.pressFor(card, 'Send', 'What actions were agreed');
    await p.say('Weekly check-in; end the session if anyone else joins.', `${CASE} is set up`);
  });

  test('plans the session on the cards, and gets the pre-session message to send', async () => {
    const p = playground;
    await notJustBeforeMidnight();
    await p.say('plan session', 'Which case reference');
    let card = await p.say(CASE, 'introductory session, or a follow-up');
    await p.choose(card, 'Introductory');
    card = await p.pressFor(card, 'Send', 'What day is the session');
    const today = ukNow().day;
    await p.pickDate(card, today);
    card = await p.pressFor(card, 'Send', /what time on .* does it start/);
    const at = sessionTime();
    await p.pickTime(card, at);
    await p.screenshot('plan-time');
    card = await p.pressFor(card, 'Send', 'How will the session take place');
    await p.choose(card, 'Video call');
    card = await p.pressFor(card, 'Send', 'specific consent for this work in this format');
    card = await p.pressFor(card, 'Yes', 'Who will call whom');
    await p.choose(card, "I'll call them");
    await p.pressFor(card, 'Send', 'if you can');
    await p.say(
      'I call back within 5 minutes on their mobile; if that fails we rearrange by text.',
      'best number to reach them',
    );
    await p.say('07700 900123', 'your work mobile number');
    await p.say(WORK_MOBILE, 'What name do you give the families');
    card = await p.say(WORKER_NAME, 'reminder text on the morning');
    await p.pressFor(card, 'Yes', 'add a short note to the pre-session message');
    const before = await p.botMessages().count();
    const planned = await p.say('none', 'is planned and ready to go ahead');
    assert.match(await planned.innerText(), new RegExp(`${CASE} on .*, ${at} is planned`));
    const message = await p.botMessageAfter(before, `I'm ${WORKER_NAME}, your worker`);
    const text = await message.innerText();
    assert.ok(!(await isCard(message)), 'the pre-session message is plain text, ready to copy');
    assert.match(text, new RegExp(`our first session on .* at ${at}\\. I'll call you then\\.`));
    assert.ok(text.includes(`my work mobile, ${WORK_MOBILE}`), 'it gives the work mobile');
    assert.match(text, new RegExp(`Thank you, and speak soon\\.\\s+${WORKER_NAME}\\s*$`));
    await p.screenshotWhole('pre-session-message', message);
  });

  test(PRE_SESSION_LINES, async () => {
    const message = await playground.botSays(`I'm ${WORKER_NAME}, your worker`);
    const lines = (await message.innerText()).split('\n').map((line) => line.trim());
    assert.ok(lines.includes("Address where you'll be for the session:"), 'the address line');
    assert.ok(lines.includes('Alternative phone number:'), 'the phone number line');
  });

  test('starts the session through every check, and gets the in-session card', async () => {
    const p = playground;
    let card = await p.say('start session', 'introduce yourself to them by name');
    card = await p.pressFor(card, 'Done', 'on silent');
    for (const next of [
      'private room',
      'children at home',
      'nothing personal or identifying',
      'comfortable and ready',
      'equipment right for this session',
      'using earphones',
      'Now the identity check',
    ]) {
      card = await p.pressFor(card, 'Yes', next);
    }
    card = await p.say(CHILD, 'ask them for their date of birth');
    await p.pickDate(card, BORN);
    card = await p.pressFor(card, 'Send', 'taking notes during the session');
    card = await p.pressFor(card, 'Done', 'anyone else in the room');
    await p.pressFor(card, 'Nobody else is there', 'Where are they today');
    card = await p.say(ADDRESS, 'The number I have for them is 07700 900123');
    card = await p.pressFor(card, 'Yes', `Give them your work mobile, ${WORK_MOBILE}`);
    await p.pressFor(card, 'Done', 'agree a safe word');
    const before = await p.botMessages().count();
    const started = await p.say(SAFE_WORD, /Session started at \d\d:\d\d\./);
    assert.match(await started.innerText(), /the safe word is saved privately/);
    const inSession = await p.botMessageAfter(before, 'Session in progress');
    assert.ok(await isCard(inSession), 'the in-session card is a card');
    const shown = await inSession.innerText();
    assert.match(shown, new RegExp(`${CASE} · started at \\d\\d:\\d\\d`));
    for (const title of ['Connection lost', 'Safe word used', 'Emergency', 'End session']) {
      assert.ok(
        await inSession.getByRole('button', { name: title, exact: true }).isVisible(),
        `the in-session card offers ${title}`,
      );
    }
    assert.ok(!shown.includes(SAFE_WORD), 'the safe word is not shown back');
    await p.screenshot('in-session-card');
  });
});

describe('an emergency in the session reaches the manager channel', { timeout: 120_000 }, () => {
  let key;

  test('an admin makes a team channel the manager channel with an @mention', async () => {
    const p = playground;
    await p.openChannel('General');
    const reply = await p.postMentioningBot('set manager channel');
    assert.match(await reply.innerText(), /Done — emergency alerts .* will now come to/);
    await p.screenshot('manager-channel-set');
  });

  test('the worker types emergency in the personal chat and is told it went', async () => {
    const p = playground;
    await p.openPersonalChat();
    const sent = await p.say('emergency', /Your emergency alert E-\w+ went to the manager channel/);
    [key] = /E-\w+/.exec(await sent.innerText());
    await p.botMessageAfter(0, 'what kind of emergency is it');
    await p.screenshot('emergency-sent');
  });

  test('the alert is posted in the channel, without the address or the safe word', async () => {
    const p = playground;
    await p.openChannel('General');
    const post = await p.channelPost(`EMERGENCY ${key}`);
    const shown = await post.innerText();
    assert.match(shown, new RegExp(`${USER_NAME} needs a manager now`));
    assert.match(shown, new RegExp(`Case reference\\s+${CASE}`));
    // The work mobile given while planning (the card writes it the international way).
    assert.match(shown, /Call the worker on\s+(\+447700900456|07700 900456)/);
    assert.match(shown, /Not yet acknowledged/);
    for (const secret of [ADDRESS, 'Synthetic Street', 'ZE9 9ZZ', SAFE_WORD, CHILD, '2015']) {
      assert.ok(!shown.includes(secret), `the channel does not see ${secret}`);
    }
    await post.scrollIntoViewIfNeeded();
    await p.screenshot('emergency-alert');
  });

  test('a manager presses Acknowledge and the card says who has it', async () => {
    const p = playground;
    let post = await p.channelPost(`EMERGENCY ${key}`);
    await post.getByRole('button', { name: 'Acknowledge', exact: true }).click();
    post = await p.channelPost(new RegExp(`EMERGENCY ${key}[^]*Acknowledged by ${USER_NAME} at`));
    assert.equal(
      await post.getByRole('button', { name: 'Acknowledge', exact: true }).count(), 0,
      'once acknowledged, the card no longer offers Acknowledge',
    );
    assert.doesNotMatch(await post.innerText(), /Not yet acknowledged/);
    await post.scrollIntoViewIfNeeded();
    await p.screenshot('emergency-acknowledged');
  });

  test('back in the personal chat, the worker is told who has their alert', async () => {
    const p = playground;
    await p.openPersonalChat();
    await p.botMessageAfter(0, `${USER_NAME} has your emergency alert ${key}`);
    await p.screenshot('emergency-acknowledged-chat');
  });
});
