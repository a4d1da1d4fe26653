"""Sample contexts for every Adaptive Card template: the one place to add one for a new card.

Keys are card names (templates/cards/<name>.json), or "<name>:<variant>" when a card renders
differently by context and each shape needs checking. tests/cards/test_cards.py fails for a card
with no sample, renders every sample and validates it as Teams would (Adaptive Cards 1.5).
Synthetic data only.
"""

from typing import Any

from bot.commands import COMMANDS

DATA_PROTECTION_URL = "https://intranet.example.org/using-technology-and-data-protection"
COMMAND_VIEWS = [{"name": command.name, "description": command.description} for command in COMMANDS]


def _question(kind: str, **extra: Any) -> dict[str, Any]:
    question = {
        "id": f"sample_{kind}",
        "kind": kind,
        "choices": [],
        "allow_nobody": False,
        "entry_fields": [],
        "added": 0,
    }
    return {"prompt": f"A sample {kind} question?", "question": {**question, **extra}}


_CHOICES = [
    {"title": "Video call", "value": "video"},
    {"title": "Phone call", "value": "phone"},
]

_ESCALATION = {
    "key": "ESC-0001",
    "worker_name": "Sam Worker",
    "worker_teams_id": "29:synthetic-worker-1",
    "kind": "Safeguarding concern",
    "raised_at": "10:04",
    "session_key": "SES-0001",
    "case_reference": "CR-1042",
    "callback_number": "07700 900123",
    "renotified": 0,
    "acknowledged_by": "Alex Manager",
    "acknowledged_at": "10:06",
    "resolved_by": "Alex Manager",
}

_REMINDER_ROWS = [
    {"kind": "sign_off", "title": "End-of-day sign-off", "on": True},
    {"kind": "weekly_check_in", "title": "Weekly check-in", "on": True},
    {"kind": "screen_break", "title": "Screen breaks", "on": True},
    {"kind": "space_between", "title": "Space between contacts", "on": True},
    {"kind": "out_of_hours", "title": "Out-of-hours reminder", "on": True},
]
_DAYS = [
    {"value": value, "title": title}
    for value, title in zip(
        ("mon", "tue", "wed", "thu", "fri", "sat", "sun"),
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        strict=True,
    )
]
_SETTINGS = {
    "working_days": ["mon", "tue", "wed", "thu", "fri"],
    "working_start": "09:00",
    "working_end": "17:00",
    "check_in_day": "fri",
    "check_in_time": "14:00",
    "days": _DAYS,
    "reminders": _REMINDER_ROWS,
}

SAMPLES: dict[str, dict[str, Any]] = {
    "welcome": {"commands": COMMAND_VIEWS, "data_protection_url": DATA_PROTECTION_URL},
    "help": {"commands": COMMAND_VIEWS, "data_protection_url": DATA_PROTECTION_URL},
    "choose_session": {
        "sessions": [
            {"case_reference": "CR-1042", "time": "10:00", "key": "SES-0001"},
            {"case_reference": "CR-2077", "time": "14:30", "key": "SES-0002"},
        ]
    },
    "emergency_kind": {
        "escalation": "ESC-0001",
        "kinds": [
            {"title": "Safeguarding concern", "value": "safeguarding"},
            {"title": "Medical emergency", "value": "medical"},
        ],
    },
    "escalation:raised": {**_ESCALATION, "status": "raised"},
    "escalation:chased": {**_ESCALATION, "status": "posted", "renotified": 2},
    "escalation:acknowledged": {**_ESCALATION, "status": "acknowledged"},
    "escalation:resolved": {**_ESCALATION, "status": "resolved"},
    "in_session": {"session": "SES-0001", "case_reference": "CR-1042", "started_time": "10:02"},
    "approval_request:requested": {
        "case_reference": "CR-1042",
        "risk_level": "medium",
        "requester_name": "Sam Worker",
        "status": "requested",
        "decided_by": "",
    },
    "approval_request:approved": {
        "case_reference": "CR-1042",
        "risk_level": "high",
        "requester_name": "Sam Worker",
        "status": "approved",
        "decided_by": "Alex Manager",
    },
    "connection_lost": {
        "session": "SES-0001",
        "number": "07700 900123",
        "call_by": "10:35",
        "contact_plan": "I call back on the mobile; if no answer we rearrange by text.",
        "outcomes": [
            {"title": "Continued by phone", "value": "phone"},
            {"title": "Could not reach them", "value": "unreachable"},
        ],
    },
    "connection_unreachable": {"session": "SES-0001"},
    "safe_word_guidance": {},
    "welfare_due": {"task": "T-ABC234", "case_reference": "CR-1042"},
    "offer_setup": {"case_reference": "CR-1042"},
    # Looking after the worker (E1-E4, D2).
    "my_settings:defaults": {
        **_SETTINGS,
        "line_manager_name": "",
        "line_manager_phone": "",
        "work_mobile": "",
    },
    "my_settings:filled_in": {
        **_SETTINGS,
        "working_days": ["mon", "wed", "fri"],
        "reminders": [{**row, "on": row["kind"] != "out_of_hours"} for row in _REMINDER_ROWS],
        "line_manager_name": "Alex Manager",
        "line_manager_phone": "07700 900456",
        "work_mobile": "07700 900123",
    },
    "self_care": {
        "hours": "Monday to Friday, 09:00 to 17:00",
        "reminders": [
            {
                **row,
                "on": row["kind"] != "screen_break",
                "snoozed_until": "Friday 27 November 2026, 17:00"
                if row["kind"] == "out_of_hours"
                else "",
            }
            for row in _REMINDER_ROWS
        ],
    },
    "after_a_hard_session:safe_word": {
        "session": "SES-0001",
        "case_reference": "CR-1042",
        "reason": "safe_word",
        "line_manager_name": "Alex Manager",
    },
    "after_a_hard_session:emergency": {
        "session": "SES-0001",
        "case_reference": "",
        "reason": "emergency",
        "line_manager_name": "",
    },
    "weekly_check_in": {"week": "2026-W48", "line_manager_name": "Alex Manager"},
    "one_contact": {
        "session": "SES-0001",
        "case_reference": "CR-1042",
        "started_time": "10:02",
        "then": "start_session",
    },
    "session_paused": {"session": "SES-0001", "case_reference": "CR-1042", "paused_time": "10:20"},
    "notes_copied:one": {
        "sessions": [
            {
                "key": "SES-0001",
                "case_reference": "CR-1042",
                "ended": "Thursday 26 November 2026, 10:50",
                "overdue": False,
            }
        ],
        "more": 0,
        "days": 90,
    },
    "notes_copied:overdue_and_more": {
        "sessions": [
            {
                "key": "SES-0001",
                "case_reference": "CR-1042",
                "ended": "Monday 2 November 2026, 10:50",
                "overdue": True,
            },
            {
                "key": "SES-0002",
                "case_reference": "CR-2040",
                "ended": "Thursday 26 November 2026, 10:50",
                "overdue": False,
            },
        ],
        "more": 3,
        "days": 90,
    },
    "question:text": _question("text"),
    "question:date": _question("date"),
    "question:time": _question("time"),
    "question:choice": _question("choice", choices=_CHOICES),
    "question:multi_choice": _question("multi_choice", choices=_CHOICES),
    "question:yes_no": _question("yes_no"),
    "question:confirm": _question("confirm"),
    "question:list_first": _question(
        "list", entry_fields=["name", "relationship", "consent"], allow_nobody=True
    ),
    "question:list_more": _question("list", entry_fields=["name", "relationship"], added=1),
}


def card_name(sample: str) -> str:
    """The template a sample renders: 'question:date' renders cards/question.json."""
    return sample.partition(":")[0]
