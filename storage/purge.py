"""The retention purge, now: what the nightly job removes, and the sessions overdue for the file.

    python -m storage.purge --dry-run     says what would go and lists overdue sessions
    python -m storage.purge [--yes]       removes it, audited, as the nightly job does

The periods come from the same settings as the bot's (SAFESESSION_RETENTION_DAYS_*, see
docs/data-protection.md). Overdue sessions are closed sessions whose notes the worker has not
confirmed as copied to the case file (`notes copied`) within SAFESESSION_CASE_FILE_OVERDUE_DAYS.
"""

import os
import sys
from collections.abc import Mapping
from typing import TextIO

from bot.settings import load_environment, retention_policy
from safeguarding.clock import Clock, SystemClock
from safeguarding.journey import answer_of
from safeguarding.records import Records
from safeguarding.retention import Retention, closed_at
from safeguarding.scheduler import Scheduler
from storage.admin import Ask, Declined, actor, open_store, parser, run
from storage.postgres import DEFAULT_SCHEMA


async def purge(
    environ: Mapping[str, str],
    *,
    dry_run: bool = False,
    yes: bool = False,
    by: str = "",
    schema: str = DEFAULT_SCHEMA,
    ask: Ask = input,
    stdout: TextIO | None = None,
    clock: Clock | None = None,
) -> dict[str, int]:
    """Runs the purge (or only reports it); returns how many records of each kind go."""
    policy = retention_policy(environ)
    if not dry_run and not yes:
        answer = ask("Remove every record whose retention period is over? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            raise Declined()
    opened = await open_store(environ, schema=schema)
    try:
        moment = clock or SystemClock()
        records = Records(opened.stores.documents, moment)
        scheduler = Scheduler(opened.stores.jobs, moment, worker_id="purge")
        retention = Retention(
            documents=opened.stores.documents,
            records=records,
            policy=policy,
            scheduler=scheduler,
            actor=actor(by),
        )
        result = await retention.purge(dry_run=dry_run)
    finally:
        await opened.stores.aclose()
    verb = "would remove" if dry_run else "removed"
    counts = ", ".join(f"{name}: {count}" for name, count in sorted(result.removed.items()))
    print(f"{verb}: {counts or 'nothing'}; kept on legal hold: {result.kept_on_hold}", file=stdout)
    print(f"sessions overdue for the case file: {len(result.overdue)}", file=stdout)
    for session in result.overdue:
        ended = closed_at(session)
        print(
            f"  {session['key']}  case {answer_of(session, 'case_reference') or '?'}"
            f"  worker {session.get('owner')}  ended {ended.date() if ended else '?'}",
            file=stdout,
        )
    return dict(result.removed)


def main(argv: list[str], environ: Mapping[str, str]) -> int:
    """Runs the command line."""
    options = parser("python -m storage.purge", __doc__.splitlines()[0], case=False)
    options.add_argument("--dry-run", action="store_true", help="only say what would go")
    arguments = options.parse_args(argv)
    return run(
        "safesession purge",
        purge(
            environ,
            dry_run=arguments.dry_run,
            yes=arguments.yes,
            by=arguments.by,
            schema=arguments.schema,
        ),
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], load_environment(dict(os.environ))))
