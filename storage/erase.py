"""Erasure: deletes every record about one case reference, leaving an audit tombstone.

    python -m storage.erase --case CR-1042 [--yes] [--by ID] [--schema NAME]

Deletes the service user, every session planned for the case, and the tasks, escalations and
discussion items raised from them, once the case reference is typed back. A case on legal hold
is refused. The audit events about those records stay (they hold ids and times, never values;
the audit log's own retention removes them), and one more is added: action `erase`, the counts
per kind, and the case named only by a keyed fingerprint (`case:…`), so the tombstone holds no
personal data. Pending reminders about the erased records find nothing when they fall due.
"""

import os
import sys
from collections.abc import Mapping
from typing import TextIO

from bot.settings import load_environment
from safeguarding.case_records import OnLegalHold, erase_case, find_case, is_held
from safeguarding.clock import Clock, SystemClock
from safeguarding.records import Records
from storage.admin import (
    AdminError,
    Ask,
    actor,
    case_fingerprint,
    confirm,
    open_store,
    parser,
    run,
    summary,
)
from storage.postgres import DEFAULT_SCHEMA


async def erase(
    environ: Mapping[str, str],
    case_reference: str,
    *,
    yes: bool = False,
    by: str = "",
    schema: str = DEFAULT_SCHEMA,
    ask: Ask = input,
    stdout: TextIO | None = None,
    clock: Clock | None = None,
) -> dict[str, int]:
    """Deletes everything about the case once confirmed; returns how many of each kind."""
    opened = await open_store(environ, schema=schema)
    try:
        documents = opened.stores.documents
        found = await find_case(documents, case_reference)
        if not found.record_ids:
            raise AdminError(f"Nothing is held about {case_reference} in {opened.where}.")
        if is_held(found.hold):
            raise OnLegalHold(case_reference)
        print(summary(found), file=stdout)
        print(
            "This deletes every record above for good; the audit events stay, with ids only.",
            file=stdout,
        )
        await confirm(case_reference, yes=yes, ask=ask)
        tombstone = case_fingerprint(opened.keyring, case_reference)
        records = Records(documents, clock or SystemClock())
        erased = await erase_case(documents, records, found, actor=actor(by), tombstone=tombstone)
    finally:
        await opened.stores.aclose()
    counts = ", ".join(f"{name}: {count}" for name, count in sorted(erased.items()))
    print(f"Erased {case_reference} ({counts}).", file=stdout)
    print(
        f"The audit log keeps {len(found.audit)} events about those records and the tombstone"
        f" {tombstone} (note it with the request; it names no one).",
        file=stdout,
    )
    return erased


def main(argv: list[str], environ: Mapping[str, str]) -> int:
    """Runs the command line."""
    arguments = parser("python -m storage.erase", __doc__.splitlines()[0]).parse_args(argv)
    return run(
        "safesession erase",
        erase(
            environ,
            arguments.case.strip(),
            yes=arguments.yes,
            by=arguments.by,
            schema=arguments.schema,
        ),
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], load_environment(dict(os.environ))))
