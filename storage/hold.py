"""Legal hold: keeps everything about one case reference from the retention purge, and erasure.

    python -m storage.hold --case CR-1042 --on     the purge keeps the case and its audit events
    python -m storage.hold --case CR-1042 --off    the periods apply again from the next purge
    python -m storage.hold --case CR-1042          says whether it is on hold

Each change is audited (`legal_hold_on` / `legal_hold_off` on `service_users/<case>`). A hold
may be placed before anything is held about the case; an erasure is refused while it is on.
"""

import os
import sys
from collections.abc import Mapping
from typing import TextIO

from bot.settings import load_environment
from safeguarding.case_records import LEGAL_HOLDS, is_held, set_hold
from safeguarding.clock import Clock, SystemClock
from safeguarding.records import Records
from storage.admin import actor, open_store, parser, run
from storage.postgres import DEFAULT_SCHEMA


async def hold(
    environ: Mapping[str, str],
    case_reference: str,
    *,
    on: bool | None,
    by: str = "",
    schema: str = DEFAULT_SCHEMA,
    stdout: TextIO | None = None,
    clock: Clock | None = None,
) -> bool:
    """Puts the case on hold, lifts it, or (on=None) only says; returns whether it is held."""
    opened = await open_store(environ, schema=schema)
    try:
        documents = opened.stores.documents
        if on is not None:
            records = Records(documents, clock or SystemClock())
            changed = await set_hold(documents, records, case_reference, on=on, actor=actor(by))
            if not changed:
                print(f"{case_reference} was already {'on' if on else 'off'} hold.", file=stdout)
        current = await documents.get(collection=LEGAL_HOLDS, key=case_reference)
    finally:
        await opened.stores.aclose()
    held = is_held(current)
    if held and current is not None:
        print(f"{case_reference} is on legal hold (since {current['since']}).", file=stdout)
    else:
        print(f"{case_reference} is not on legal hold.", file=stdout)
    return held


def main(argv: list[str], environ: Mapping[str, str]) -> int:
    """Runs the command line."""
    options = parser("python -m storage.hold", __doc__.splitlines()[0], confirms=False)
    switch = options.add_mutually_exclusive_group()
    switch.add_argument("--on", dest="on", action="store_const", const=True, default=None)
    switch.add_argument("--off", dest="on", action="store_const", const=False)
    arguments = options.parse_args(argv)
    return run(
        "safesession hold",
        hold(
            environ,
            arguments.case.strip(),
            on=arguments.on,
            by=arguments.by,
            schema=arguments.schema,
        ),
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], load_environment(dict(os.environ))))
