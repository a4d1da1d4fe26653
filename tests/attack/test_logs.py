"""Logs carry ids, never personal data: every journey, with every logger at DEBUG.

Three workers go through everything the bot does (setup, planning, session start with the
address and safe word, a lost connection, an emergency and the managers' side of it, a normal
ending, a safe-word ending with its welfare call, a behaviour ending), with a failing channel, a
bad answer, a replay, a malformed activity and a stranger's tenant along the way. Every record
any logger emitted (aiohttp's access log, botbuilder, msrest, urllib3 and ours) is searched for
the synthetic names, dates of birth, addresses, postcodes, phone numbers, safe words and notes.
"""

import logging
import re

import pytest

from tests.attack.conftest import Site, SiteFactory
from tests.attack.walk import (
    People,
    line_manager,
    normal_ending,
    planning,
    safe_word_ending,
    session_start,
    setup,
    the_session,
    walk,
)
from tests.http_chat import TEAM_CHANNEL, HttpChat
from tests.transcript import TENANT

FIRST = People()
SECOND = People(
    case_reference="CR-6262",
    child_name="Rowan Testperson",
    date_of_birth="04/07/2012",
    guardian="Morgan Testperson, father",
    person_present="Casey Testperson, sister",
    address="Flat 7, 22 Sample Road, Bristol, BS1 5TR",
    contact_number="07700 900321",
    work_mobile="07700 900654",
    worker_name="Kit Worker",
    line_manager_phone="07700 900987",
    safe_word="Marmalade",
    contact_plan="Ring Morgan back straight away.",
    session_content="Rowan practised grounding.",
    family_tasks="Grounding twice a day.",
    other_arrangement="Call Morgan's work phone at noon.",
)
THIRD = People(
    case_reference="CR-7373",
    child_name="Ellis Samplename",
    date_of_birth="30/11/2009",
    guardian="Jamie Samplename, mother",
    person_present="Jamie Samplename, mother",
    address="3 Fictional Close, Manchester, M1 1AE",
    contact_number="07700 900111",
    work_mobile="07700 900222",
    worker_name="Lee Worker",
    line_manager_phone="07700 900333",
    safe_word="Tangerine",
    what_happened="Ellis threw a mug at the screen and swore at Jamie.",
)
LOGGERS = ("", "aiohttp", "aiohttp.access", "aiohttp.server", "aiohttp.client", "asyncio")
LOGGERS += ("botbuilder", "botframework", "msrest", "azure", "urllib3", "jwt", "safesession")


def personal_details(people: People) -> list[str]:
    """Everything personal a walk types, in each form it could be written."""
    day, month, year = people.date_of_birth.split("/")
    months = "January February March April May June July August September October November"
    month_name = [*months.split(), "December"][int(month) - 1]
    numbers = [people.contact_number, people.work_mobile, people.line_manager_phone]
    lines = [part.strip() for part in people.address.split(",")]
    return [
        people.case_reference,  # not personal by itself, but never needed in a log line
        people.child_name,
        *people.child_name.split(),
        people.guardian.split(",")[0],
        people.person_present.split(",")[0],
        people.worker_name,
        f"{year}-{month}-{day}",
        people.date_of_birth,
        f"{int(day)} {month_name} {year}",
        *lines,
        *[
            number
            for n in numbers
            for number in (n, n.replace(" ", ""), "+44" + n[1:].replace(" ", ""))
        ],
        people.safe_word,
        people.risk_actions,
        people.contact_plan,
        people.amendment,
        people.actions_agreed,
        people.session_content,
        people.family_tasks,
        people.other_arrangement,
        people.what_happened,
    ]


async def everything_happens(site: Site) -> None:
    """Three workers and the managers do everything the bot can do, good and bad."""
    admin = site.person("admin", "Jo Admin", channel=True)
    manager = site.person("manager", "Alex Manager")
    in_channel = site.person("manager", "Alex Manager", channel=True)
    await admin.says("set manager channel")
    await manager.says("hi")

    workers: list[tuple[HttpChat, People]] = [
        (site.person(f"worker-{n}", f"Worker {n}"), people)
        for n, people in enumerate((FIRST, SECOND, THIRD), start=1)
    ]
    for worker, people in workers:
        for steps in (setup(people), line_manager(people), planning(people)):
            await walk(worker, steps)
        await walk(worker, ["start session", "not an answer at all"])  # a re-prompt
        await walk(worker, session_start(people)[1:])

    (first, _), (second, _), (third, _) = workers
    one, two, three = [await the_session(site, f"aad-worker-{n}") for n in (1, 2, 3)]
    await walk(first, [{"action": "connection_lost", "session": one}])
    site.later(5)
    await site.scheduler.run_due()
    await walk(first, [{"action": "emergency", "session": one}])
    [alert] = await site.documents("escalations")
    for action in ("acknowledge", "show_location"):
        await in_channel.presses({"action": action, "escalation": alert["key"]})
    note = f"Police attended {FIRST.address}; {FIRST.child_name} safe."
    await in_channel.presses({"action": "resolve", "escalation": alert["key"], "outcome": note})
    await walk(first, normal_ending(FIRST, one))

    site.connector.fail(TEAM_CHANNEL, 500, 500, 403)
    await walk(second, ["emergency"])  # the channel cannot be reached
    await walk(second, safe_word_ending(SECOND, two))
    site.later(24 * 60)
    await site.scheduler.run_due()
    [task] = await site.documents("tasks")
    await walk(second, [{"action": "welfare_done", "task": task["key"]}])

    await walk(third, [{"action": "behaviour_end", "session": three}, THIRD.what_happened])
    answer = third.activity(text=THIRD.child_name)
    for _ in range(2):  # a replay
        await third.post(answer)
    await third.post({**third.activity(text=THIRD.safe_word), "channelId": 5})  # a 400
    abroad = third.activity(text=THIRD.address)
    abroad["conversation"]["tenantId"] = abroad["channelData"]["tenant"]["id"] = "another-tenant"
    await third.post(abroad)

    # It all happened: the walks did not stop early.
    endings = {session["ending"] for session in await site.documents("sessions")}
    assert endings == {"normal", "safe_word", "behaviour"}
    assert [e["status"] for e in await site.documents("escalations")].count("resolved") == 1
    assert [task["status"] for task in await site.documents("tasks")] == ["done"]
    assert len(await site.documents("discussion_items")) == 1


@pytest.fixture
async def logged(open_site: SiteFactory, caplog: pytest.LogCaptureFixture) -> str:
    """Everything logged while everything happens: message, arguments and tracebacks."""
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    site = await open_site(SAFESESSION_ALLOWED_TENANTS=TENANT)
    await everything_happens(site)
    captured = [
        "\n".join([record.name, record.getMessage(), repr(record.args), record.exc_text or ""])
        for record in caplog.records
    ]
    return "\n".join([*captured, caplog.text])


async def test_no_log_line_carries_personal_data(logged: str) -> None:
    assert "aiohttp.access" in logged and "safesession" in logged, "capture is off"
    assert "POST /api/messages" in logged
    found = {
        detail
        for people in (FIRST, SECOND, THIRD)
        for detail in personal_details(people)
        if detail and re.search(re.escape(detail), logged, flags=re.IGNORECASE)
    }
    assert found == set()
