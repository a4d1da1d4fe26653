"""The full pre-session journey one simulated worker types: set up, plan, and start a session."""

from datetime import datetime, timedelta

from safeguarding.clock import to_london


def session_time(now: datetime) -> tuple[str, str]:
    """A session later today (UK time), as typed: day first, 24-hour clock."""
    start = to_london(now) + timedelta(hours=1)
    return start.strftime("%d/%m/%Y"), start.strftime("%H:%M")


def pre_session_script(worker: int, now: datetime) -> list[str]:
    """Every message of setup, planning and session start, for worker number `worker`."""
    day, time = session_time(now)
    case = f"CR-B{worker:04d}"
    return [
        "new service user",
        case,
        "Alex Example",
        "12/03/2015",
        "Sam Example, mother",
        "Sam Example, mother, yes",
        "Alex Example, self, yes",
        "done",
        "whatsapp, phone",
        "phone",
        "20/11/2026",
        "low",
        "Weekly check-in; end the session if anyone else joins.",
        "plan session",
        case,
        "introductory",
        day,
        time,
        "video",
        "yes",
        "1",
        "I call back within 5 minutes on the mobile; if that fails we rearrange by text.",
        "07700 900123",
        "07700 900456",
        "Sam Worker",
        "yes",
        "none",
        "start session",
        "yes",
        "yes",
        "yes",
        "yes",
        "yes",
        "yes",
        "yes",
        "yes",
        "Alex Example",
        "12/03/2015",
        "yes",
        "nobody",
        "Flat 1, 1 Synthetic Street, Exampleton, ZE9 9ZZ",
        "yes",
        "yes",
        "bluebird",
    ]


def crosses_midnight(now: datetime) -> bool:
    """Says whether a session an hour from now would fall tomorrow (then start can't run)."""
    local = to_london(now)
    return (local + timedelta(hours=1)).date() != local.date()
