"""Journeys declared as data: each question, the clause it serves, when it is asked, how it is read.

A journey's position is derived from what its record already holds: the next question is the
first applicable one without an answer. So a restart resumes exactly where the worker was,
`back` is "forget the last answer", and adding a question never shifts a half-finished journey
the way a waterfall's stored step index would.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from safeguarding.validation import InvalidAnswer, parse_text, parse_uk_phone, parse_yes_no

InputKind = Literal[
    "text", "long_text", "date", "time", "choice", "multi_choice", "yes_no", "confirm", "list"
]
# A card answer is one string; a list entry from a card is several named strings.
Answer = str | Mapping[str, str]
DONE_WORDS = frozenset({"done", "that's everyone", "thats everyone", "finished", "no more"})
NOBODY_WORDS = frozenset({"nobody", "no one", "noone", "none", "just them", "only them"})


@dataclass(frozen=True)
class Facts:
    """What a rule may look at: the moment, this record, the records it relates to, settings."""

    now: datetime
    record: Mapping[str, Any]
    related: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    config: Mapping[str, Any] = field(default_factory=dict)

    def answer(self, question_id: str) -> Any:
        """Returns the stored answer to a question of this record, or None."""
        return answer_of(self.record, question_id)

    def related_answer(self, name: str, question_id: str) -> Any:
        """Returns an answer stored on a related record (the service user, the worker)."""
        return answer_of(self.related.get(name, {}), question_id)


def answer_of(record: Mapping[str, Any], question_id: str) -> Any:
    """Returns the value stored for a question on a record, or None."""
    entry = record.get("answers", {}).get(question_id)
    return None if entry is None else entry["value"]


Reader = Callable[[Answer, Facts], Any]
Condition = Callable[[Facts], bool]
Check = Callable[[Any, Facts], str | None]


def always(_facts: Facts) -> bool:
    """Asks the question every time."""
    return True


def never_stops(_value: Any, _facts: Facts) -> str | None:
    """Lets the journey go on whatever the answer."""
    return None


@dataclass(frozen=True)
class Choice:
    """One option of a choice question: the stored value and what the worker sees."""

    value: str
    title: str


@dataclass(frozen=True)
class Disclosure:
    """A stored value a question's prompt shows back, audited each time it is shown."""

    # The prompt-context name that carries it; nothing is shown (or audited) when it is empty.
    shown: str
    # The field group the audit event names (the safe word, the contact number).
    field: str


@dataclass(frozen=True)
class Question:
    """One thing to ask, tied to the guidance clause it serves."""

    id: str
    clause: str
    kind: InputKind
    read: Reader
    choices: tuple[Choice, ...] = ()
    ask_when: Condition = always
    # A stop code ends the journey after the answer is stored (an identity mismatch, say).
    check: Check = never_stops
    # Sensitive answers are never echoed back or shown anywhere but this worker's personal chat.
    sensitive: bool = False
    # "record" stores on the journey's record; "worker" on the worker's profile (asked once).
    target: Literal["record", "worker"] = "record"
    # For list questions: whether "nobody" is an answer, and the fields of one entry on the card.
    allow_nobody: bool = False
    entry_fields: tuple[str, ...] = ()
    # The answer names another record (a case reference) that must exist and be the worker's.
    links: str = ""
    # The answer is also kept on that related record (the service user's contact number), so
    # the next journey that needs it can show it back instead of asking again.
    copy_to: Literal["", "service_user"] = ""
    # The prompt shows a stored sensitive value back (the agreed safe word, the number on file).
    discloses: Disclosure | None = None


@dataclass(frozen=True)
class Journey:
    """An ordered set of questions over one record."""

    id: str
    collection: str
    questions: tuple[Question, ...]
    # Asked before the record exists; its answer becomes the record's key (a case reference).
    key_question: Question | None = None
    # Values the prompts may show (the number on file, the agreed safe word), from the facts.
    prompt_context: Callable[[Facts], dict[str, Any]] = lambda _facts: {}

    def question(self, question_id: str) -> Question:
        """Finds a question by id."""
        for question in self.questions:
            if question.id == question_id:
                return question
        raise KeyError(question_id)

    def next_question(self, facts: Facts) -> Question | None:
        """The first applicable question with no answer yet, or None when the journey is done."""
        for question in self.questions:
            if question.ask_when(facts) and not _answered(question, facts):
                return question
        return None

    def previous_question(self, facts: Facts, current: Question | None) -> Question | None:
        """The last applicable answered question on the record before the current one."""
        before = (
            self.questions if current is None else self.questions[: self.questions.index(current)]
        )
        for question in reversed(before):
            if (
                question.target == "record"
                and question.ask_when(facts)
                and _answered(question, facts)
            ):
                return question
        return None


def _answered(question: Question, facts: Facts) -> bool:
    if question.target == "worker":
        return facts.related_answer("worker", question.id) is not None
    entry = facts.record.get("answers", {}).get(question.id)
    return entry is not None and entry.get("complete", True)


def as_text(answer: Answer) -> str:
    """The answer as one string; a set of card fields is not one."""
    if isinstance(answer, str):
        return answer
    raise InvalidAnswer("card_unreadable")


def choose(choices: tuple[Choice, ...], text: str) -> str:
    """Reads one choice by its value, its title or its number in the list."""
    wanted = " ".join(text.strip().lower().split())
    for number, choice in enumerate(choices, start=1):
        if wanted in (choice.value.lower(), choice.title.lower(), str(number)):
            return choice.value
    raise InvalidAnswer("choice_unknown", options=len(choices))


def choice_reader(choices: tuple[Choice, ...]) -> Reader:
    """Reads one of the choices, typed or picked on the card."""
    return lambda answer, _facts: choose(choices, as_text(answer))


def multi_choice_reader(choices: tuple[Choice, ...]) -> Reader:
    """Reads several choices, comma-separated (as typed, or as Input.ChoiceSet sends them)."""

    def read(answer: Answer, _facts: Facts) -> list[str]:
        parts = [part for part in as_text(answer).replace(" and ", ",").split(",") if part.strip()]
        if not parts:
            raise InvalidAnswer("empty")
        picked = [choose(choices, part) for part in parts]
        return sorted(set(picked), key=[choice.value for choice in choices].index)

    return read


def text_reader(*, max_length: int = 200) -> Reader:
    """Reads a free-text answer of at most max_length characters."""
    return lambda answer, _facts: parse_text(as_text(answer), min_length=1, max_length=max_length)


def allows_fictional_numbers(facts: Facts) -> bool:
    """Says whether Ofcom's drama numbers are accepted (training and demos only)."""
    return bool(facts.config.get("allow_fictional_numbers", False))


def read_yes_no(answer: Answer, _facts: Facts) -> bool:
    """Reads a yes or a no, typed or pressed."""
    return parse_yes_no(as_text(answer))


def read_uk_phone(answer: Answer, facts: Facts) -> str:
    """Reads a UK phone number into E.164."""
    return parse_uk_phone(as_text(answer), allow_fictional=allows_fictional_numbers(facts))
