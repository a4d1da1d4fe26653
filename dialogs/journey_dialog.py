"""Runs a declared journey as a dialog: ask the next question, read the answer, store it, go on.

The dialog keeps only the record's key and the question last asked; where the worker is comes
from the record itself, so a restart, `back` and `where was I` all fall out of the same rule.
"""

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from botbuilder.core import MessageFactory, TurnContext
from botbuilder.dialogs import Dialog, DialogContext, DialogInstance, DialogTurnResult

from dialogs.cards import card_message
from dialogs.interruptions import Interruption, interruption
from safeguarding.journey import (
    DONE_WORDS,
    NOBODY_WORDS,
    Answer,
    Disclosure,
    Facts,
    Journey,
    Question,
    answer_of,
)
from safeguarding.ports import Document
from safeguarding.records import SERVICE_USERS, WORKERS, Records
from safeguarding.validation import Address, InvalidAnswer
from safeguarding.words import normalise
from templates import Templates

log = logging.getLogger("safesession.journey")

CARD_KINDS = frozenset({"date", "time", "choice", "multi_choice", "yes_no", "confirm", "list"})


@dataclass(frozen=True)
class JourneyServices:
    """What every journey dialog needs: records, templates and the service's settings."""

    records: Records
    templates: Templates
    config: Mapping[str, Any]
    # Raises the emergency escalation; the journey stops (its answers are stored) and
    # `where was I` picks it up later.
    on_emergency: Callable[[TurnContext], Awaitable[None]] | None = None
    # Asks the manager channel to approve online work for a medium- or high-risk service user.
    on_approval_needed: Callable[[TurnContext, Document], Awaitable[None]] | None = None


Completion = Callable[[TurnContext, Document, Facts], Awaitable[None]]
# What a journey does before it closes, giving the fields its record gets, written with the close:
# if it fails, the journey stays open and the worker's next message completes it again.
Finish = Callable[[TurnContext, Document, Facts], Awaitable[Mapping[str, Any]]]
# Where a question's `copy_to` answer is also kept, by the name Facts.related gives it.
COPY_COLLECTIONS = {"service_user": SERVICE_USERS}


def worker_id(turn_context: TurnContext) -> str:
    """The Entra object id of whoever sent the activity (the Teams user id as a fallback)."""
    sender = turn_context.activity.from_property
    return str(getattr(sender, "aad_object_id", None) or sender.id)


def storable(value: Any) -> Any:
    """Turns a parsed answer into plain JSON for the store."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, Address):
        return {"lines": list(value.lines), "postcode": value.postcode}
    return value


class JourneyDialog(Dialog):
    """One declared journey, run one question per turn."""

    def __init__(
        self,
        journey: Journey,
        services: JourneyServices,
        *,
        on_complete: Completion,
        on_stop: Completion | None = None,
        finish: Finish | None = None,
    ) -> None:
        super().__init__(journey.id)
        self._journey = journey
        self._records = services.records
        self._templates = services.templates
        self._config = services.config
        self._on_emergency = services.on_emergency
        self._on_complete = on_complete
        self._on_stop = on_stop
        self._finish = finish

    async def begin_dialog(
        self, dialog_context: DialogContext, options: Mapping[str, Any] | None = None
    ) -> DialogTurnResult:
        """Starts (or resumes) the journey on the record named in options, or asks for its key."""
        options = options or {}
        dialog_context.active_dialog.state["key"] = options.get("key")
        prefill = options.get("prefill")
        if dialog_context.active_dialog.state["key"] is None and prefill:
            return await self._take_key(dialog_context, prefill)
        lead = self._templates.text(options["lead"]) if options.get("lead") else ""
        return await self._ask_next(dialog_context, lead=lead)

    async def continue_dialog(self, dialog_context: DialogContext) -> DialogTurnResult:
        """Reads the worker's reply to the question last asked."""
        activity = dialog_context.context.activity
        typed = activity.text if activity.value is None else None
        word = interruption(typed)
        if word is not None:
            return await self._interrupt(dialog_context, word)
        state = dialog_context.active_dialog.state
        if state.get("key") is None:
            answer = self._answer_from(activity, self._key_question())
            return await self._take_key(dialog_context, answer)
        return await self._take_answer(dialog_context, activity)

    async def resume_dialog(
        self, dialog_context: DialogContext, reason: Any, result: Any = None
    ) -> DialogTurnResult:
        """Asks again after anything that interrupted the journey."""
        # A record set up meanwhile (from the offer_setup card) answers the question naming it.
        if isinstance(result, str) and dialog_context.active_dialog.state.get("key") is not None:
            facts = await self._facts(dialog_context)
            question = self._journey.next_question(facts)
            if (
                question is not None
                and question.links
                and await self._owns(dialog_context, question, result)
            ):
                lead = self._templates.text("continuing_with_new_record", case_reference=result)
                return await self._store(dialog_context, question, facts, result, lead=lead)
        return await self._ask_next(dialog_context)

    async def reprompt_dialog(self, context: TurnContext, instance: DialogInstance) -> None:
        """Nothing to do: the next turn asks again from the record."""

    # -- asking ---------------------------------------------------------------------------

    async def _ask_next(
        self, dialog_context: DialogContext, *, lead: str = "", facts: Facts | None = None
    ) -> DialogTurnResult:
        """Asks the first question still to answer, or completes; facts read just now may be
        passed in rather than read again."""
        state = dialog_context.active_dialog.state
        if state.get("key") is None:
            await self._send_prompt(dialog_context, self._key_question(), self._empty_facts(), lead)
            state["asked"] = self._key_question().id
            return Dialog.end_of_turn
        if facts is None:
            facts = await self._facts(dialog_context)
        question = self._journey.next_question(facts)
        if question is None:
            return await self._complete(dialog_context, facts)
        state["asked"] = question.id
        await self._send_prompt(dialog_context, question, facts, lead)
        return Dialog.end_of_turn

    async def _send_prompt(
        self, dialog_context: DialogContext, question: Question, facts: Facts, lead: str = ""
    ) -> None:
        context = {**self._config, **self._journey.prompt_context(facts)}
        prompt = self._templates.text(f"ask/{question.id}", **context)
        entries = facts.answer(question.id) if question.kind == "list" else None
        if lead:
            prompt = f"{lead}\n\n{prompt}"
        shown = question.discloses
        if shown is not None and context.get(shown.shown):
            await self._audit_disclosure(dialog_context, question, shown, facts)
        if question.kind not in CARD_KINDS:
            await dialog_context.context.send_activity(MessageFactory.text(prompt))
            return
        card = self._templates.card(
            "question",
            question={
                "id": question.id,
                "kind": question.kind,
                "choices": [{"value": c.value, "title": c.title} for c in question.choices],
                "allow_nobody": question.allow_nobody,
                "entry_fields": list(question.entry_fields),
                "added": len(entries or []),
            },
            prompt=prompt,
        )
        await dialog_context.context.send_activity(card_message(card, "question"))

    async def _audit_disclosure(
        self, dialog_context: DialogContext, question: Question, shown: Disclosure, facts: Facts
    ) -> None:
        """Records that this prompt shows a stored value back (the safe word, the number)."""
        await self._records.disclose(
            actor=worker_id(dialog_context.context),
            record=f"{self._journey.collection}/{facts.record.get('key', 'unknown')}",
            field=shown.field,
            clause=question.clause,
            reason=f"prompt:{question.id}",
        )

    # -- reading --------------------------------------------------------------------------

    def _answer_from(self, activity: Any, question: Question) -> Answer | None:
        """The typed text, or the card's answer when it is for this question; None if garbled."""
        value = activity.value
        if value is None:
            return str(activity.text or "")
        if not isinstance(value, dict) or value.get("action") != "answer":
            return None
        if value.get("question") != question.id:
            return None
        if question.kind == "list" and value.get("answer") is None:
            fields = {
                name: value.get(name)
                for name in question.entry_fields
                if value.get(name) is not None
            }
            if not all(isinstance(field, str) for field in fields.values()):
                return None
            return {name: str(field) for name, field in fields.items()}
        answer = value.get("answer")
        return answer if isinstance(answer, str) else None

    async def _take_key(
        self, dialog_context: DialogContext, answer: Answer | None
    ) -> DialogTurnResult:
        question = self._key_question()
        if answer is None:
            return await self._garbled(dialog_context, question, self._empty_facts())
        try:
            key = str(question.read(answer, self._empty_facts()))
        except InvalidAnswer as refused:
            return await self._refuse(dialog_context, question, self._empty_facts(), refused)
        actor = worker_id(dialog_context.context)
        existing = await self._records.load(collection=self._journey.collection, key=key)
        if existing is not None and existing.get("owner") != actor:
            log.info("refused another worker's record in %s", self._journey.collection)
            await self._records.audit(
                actor=actor,
                action="refused",
                record=f"{self._journey.collection}/{key}",
                field=question.id,
            )
            await dialog_context.context.send_activity(self._templates.text("not_your_record"))
            return await dialog_context.end_dialog()
        if existing is None:
            await self._records.create(
                collection=self._journey.collection,
                key=key,
                actor=actor,
                fields={"journey": self._journey.id, "open_journey": self._journey.id},
            )
        dialog_context.active_dialog.state["key"] = key
        lead = self._templates.text("resuming_record") if existing is not None else ""
        return await self._ask_next(dialog_context, lead=lead)

    async def _take_answer(self, dialog_context: DialogContext, activity: Any) -> DialogTurnResult:
        facts = await self._facts(dialog_context)
        question = self._journey.next_question(facts)
        if question is None:
            return await self._complete(dialog_context, facts)
        answer = self._answer_from(activity, question)
        if answer is None:
            return await self._garbled(dialog_context, question, facts)
        if question.kind == "list":
            return await self._take_list_entry(dialog_context, question, facts, answer)
        try:
            value = storable(question.read(answer, facts))
        except InvalidAnswer as refused:
            return await self._refuse(dialog_context, question, facts, refused)
        if question.links and not await self._link_ok(dialog_context, question, value):
            return Dialog.end_of_turn
        return await self._store(dialog_context, question, facts, value)

    async def _take_list_entry(
        self, dialog_context: DialogContext, question: Question, facts: Facts, answer: Answer
    ) -> DialogTurnResult:
        entries = list(facts.answer(question.id) or [])
        word = normalise(answer) if isinstance(answer, str) else ""
        if word in DONE_WORDS or (word in NOBODY_WORDS and question.allow_nobody):
            if not entries and not (word in NOBODY_WORDS and question.allow_nobody):
                refused = InvalidAnswer("list_needs_someone")
                return await self._refuse(dialog_context, question, facts, refused)
            return await self._store(dialog_context, question, facts, entries)
        try:
            entry = storable(question.read(answer, facts))
        except InvalidAnswer as refused:
            return await self._refuse(dialog_context, question, facts, refused)
        entry["recorded_at"] = self._records.now().isoformat()
        entry["recorded_by"] = worker_id(dialog_context.context)
        await self._records.store_answer(
            collection=self._journey.collection,
            record=dict(facts.record),
            question=question,
            value=[*entries, entry],
            actor=worker_id(dialog_context.context),
            complete=False,
        )
        lead = self._templates.text("list_added", count=len(entries) + 1)
        return await self._ask_next(dialog_context, lead=lead)

    async def _owns(self, dialog_context: DialogContext, question: Question, key: str) -> bool:
        linked = await self._records.load(collection=question.links, key=key)
        return linked is not None and linked.get("owner") == worker_id(dialog_context.context)

    async def _link_ok(self, dialog_context: DialogContext, question: Question, key: Any) -> bool:
        linked = await self._records.load(collection=question.links, key=str(key))
        if linked is not None and linked.get("owner") == worker_id(dialog_context.context):
            return True
        if linked is None:
            card = self._templates.card("offer_setup", case_reference=str(key))
            await dialog_context.context.send_activity(card_message(card, "offer_setup"))
        else:
            await self._records.audit(
                actor=worker_id(dialog_context.context),
                action="refused",
                record=f"{question.links}/{linked['key']}",
                field=question.id,
            )
            await dialog_context.context.send_activity(self._templates.text("not_your_record"))
        return False

    async def _store(
        self,
        dialog_context: DialogContext,
        question: Question,
        facts: Facts,
        value: Any,
        *,
        lead: str = "",
    ) -> DialogTurnResult:
        actor = worker_id(dialog_context.context)
        if question.target == "worker":
            collection, record = WORKERS, await self._records.worker(actor)
        else:
            collection, record = self._journey.collection, dict(facts.record)
        await self._records.store_answer(
            collection=collection,
            record=record,
            question=question,
            value=value,
            actor=actor,
            copies=await self._copies(question, facts),
        )
        stored = await self._facts(dialog_context)
        stop = question.check(value, stored)
        if stop is not None:
            return await self._stop(dialog_context, stop)
        return await self._ask_next(dialog_context, lead=lead, facts=stored)

    async def _copies(self, question: Question, facts: Facts) -> list[tuple[str, Document]]:
        # The records that keep this answer too. Read again rather than trusting this turn's
        # copy: only this one answer may change.
        if not question.copy_to:
            return []
        collection = COPY_COLLECTIONS[question.copy_to]
        key = (facts.related.get(question.copy_to) or {}).get("key")
        if key is None:
            return []
        current = await self._records.load(collection=collection, key=str(key))
        return [] if current is None else [(collection, current)]

    # -- outcomes -------------------------------------------------------------------------

    async def _refuse(
        self,
        dialog_context: DialogContext,
        question: Question,
        facts: Facts,
        refused: InvalidAnswer,
    ) -> DialogTurnResult:
        message = self._templates.text(f"invalid/{refused.reason}", **refused.details)
        await self._send_prompt(dialog_context, question, facts, lead=message)
        return Dialog.end_of_turn

    async def _garbled(
        self, dialog_context: DialogContext, question: Question, facts: Facts
    ) -> DialogTurnResult:
        lead = self._templates.text("card_not_for_this_question")
        await self._send_prompt(dialog_context, question, facts, lead=lead)
        return Dialog.end_of_turn

    async def _stop(self, dialog_context: DialogContext, stop: str) -> DialogTurnResult:
        facts = await self._facts(dialog_context)
        record = await self._records.update(
            collection=self._journey.collection,
            record=dict(facts.record),
            changes={"open_journey": None, "stopped": stop},
            actor=worker_id(dialog_context.context),
        )
        if self._on_stop is not None:
            await self._on_stop(dialog_context.context, record, facts)
        context = {**self._config, **self._journey.prompt_context(facts)}
        await dialog_context.context.send_activity(self._templates.text(f"stop/{stop}", **context))
        return await dialog_context.end_dialog()

    async def _complete(self, dialog_context: DialogContext, facts: Facts) -> DialogTurnResult:
        record = dict(facts.record)
        context = dialog_context.context
        finished = await self._finish(context, record, facts) if self._finish else {}
        record = await self._records.update(
            collection=self._journey.collection,
            record=record,
            changes={"open_journey": None, **finished},
            actor=worker_id(context),
        )
        await self._on_complete(context, record, facts)
        return await dialog_context.end_dialog(record["key"])

    async def _interrupt(
        self, dialog_context: DialogContext, word: Interruption
    ) -> DialogTurnResult:
        send = dialog_context.context.send_activity
        if word is Interruption.CANCEL:
            await send(self._templates.text("journey_cancelled"))
            return await dialog_context.cancel_all_dialogs()
        if word is Interruption.HELP:
            return await self._ask_next(dialog_context, lead=self._templates.text("journey_help"))
        if word is Interruption.EMERGENCY:
            if self._on_emergency is None:
                return await self._ask_next(
                    dialog_context, lead=self._templates.text("emergency_now")
                )
            result = await dialog_context.cancel_all_dialogs()
            await self._on_emergency(dialog_context.context)
            return result
        if word is Interruption.RESUME:
            return await self._ask_next(dialog_context, lead=self._templates.text("you_were_here"))
        return await self._go_back(dialog_context)

    async def _go_back(self, dialog_context: DialogContext) -> DialogTurnResult:
        if dialog_context.active_dialog.state.get("key") is None:
            return await self._ask_next(dialog_context, lead=self._templates.text("nothing_before"))
        facts = await self._facts(dialog_context)
        previous = self._journey.previous_question(facts, self._journey.next_question(facts))
        if previous is None:
            return await self._ask_next(dialog_context, lead=self._templates.text("nothing_before"))
        await self._records.forget_answer(
            collection=self._journey.collection,
            record=dict(facts.record),
            question_id=previous.id,
            actor=worker_id(dialog_context.context),
        )
        return await self._ask_next(dialog_context, lead=self._templates.text("going_back"))

    # -- facts ----------------------------------------------------------------------------

    def _key_question(self) -> Question:
        if self._journey.key_question is None:
            raise RuntimeError(f"{self._journey.id} was started without a record key")
        return self._journey.key_question

    def _empty_facts(self) -> Facts:
        return Facts(now=self._records.now(), record={}, config=self._config)

    async def _facts(self, dialog_context: DialogContext) -> Facts:
        key = dialog_context.active_dialog.state["key"]
        record = await self._records.load(collection=self._journey.collection, key=key) or {}
        related: dict[str, Mapping[str, Any]] = {
            "worker": await self._records.worker(worker_id(dialog_context.context))
        }
        case_reference = answer_of(record, "case_reference")
        if self._journey.collection != SERVICE_USERS and case_reference:
            service_user = await self._records.load(collection=SERVICE_USERS, key=case_reference)
            related["service_user"] = service_user or {}
        return Facts(now=self._records.now(), record=record, related=related, config=self._config)
