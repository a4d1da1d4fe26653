"""The worker's own profile: who their line manager is and how to reach them (D1), and the work
mobile and name the pre-session message gives families (C3, A5)."""

from collections.abc import Sequence
from dataclasses import replace

from safeguarding.journey import (
    Choice,
    Facts,
    Journey,
    Question,
    choice_reader,
    read_uk_phone,
    text_reader,
)
from safeguarding.records import WORKERS
from safeguarding.session_planning import WORK_MOBILE, WORKER_NAME

NOT_LISTED = "not_listed"
# The questions `my details` asks again: the same as planning's, on the profile itself.
DETAILS = (replace(WORK_MOBILE, target="record"), replace(WORKER_NAME, target="record"))
WORKER_DETAILS = Journey(id="worker_details.v1", collection=WORKERS, questions=DETAILS)


def line_manager_journey(managers: Sequence[tuple[str, str]]) -> Journey:
    """Builds the line-manager journey, offering the managers the service has configured."""
    choices = tuple(Choice(manager_id, name) for manager_id, name in managers) + (
        (Choice(NOT_LISTED, "Someone not listed"),) if managers else ()
    )

    def pick_from_list(_facts: Facts) -> bool:
        return bool(choices)

    def name_unknown(facts: Facts) -> bool:
        return not choices or facts.answer("line_manager") == NOT_LISTED

    return Journey(
        id="line_manager.v1",
        collection=WORKERS,
        questions=(
            Question(
                id="line_manager",
                clause="D1",
                kind="choice",
                read=choice_reader(choices),
                choices=choices,
                ask_when=pick_from_list,
            ),
            Question(
                id="line_manager_name",
                clause="D1",
                kind="text",
                read=text_reader(max_length=100),
                ask_when=name_unknown,
            ),
            Question(id="line_manager_phone", clause="D1", kind="text", read=read_uk_phone),
        ),
    )


def manager_name(managers: Sequence[tuple[str, str]], manager_id: str) -> str:
    """The configured display name of a manager, or '' if they are not configured."""
    return dict(managers).get(manager_id, "")
