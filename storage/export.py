"""Subject access: everything held about one case reference, as JSON and as a readable document.

    python -m storage.export --case CR-1042 --out ./sar [--yes] [--by ID] [--schema NAME]

Finds the service user, every session planned for the case, and the tasks, escalations and
discussion items raised from them, with the audit events about each; opens them with the data
key; asks for the case reference to be typed back; audits the export (action `disclose`, field
`everything`, reason `subject_access`); and writes `<case>-<UTC time>.json` (every record as
the bot holds it) and `<case>-<UTC time>.md` (the same, to read) into --out, readable by the
owner only. What it writes is the raw material for a response: check it for third parties (a
guardian, people present, the workers) and redact as the law requires before anything is sent.
"""

import json
import os
import sys
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from bot.settings import load_environment
from safeguarding.case_records import CASE_COLLECTIONS, CaseRecords, find_case
from safeguarding.clock import Clock, SystemClock
from safeguarding.records import AUDIT, SERVICE_USERS, Records
from storage.admin import AdminError, Ask, actor, confirm, open_store, parser, run, summary
from storage.postgres import DEFAULT_SCHEMA

TITLES = {
    "service_users": "Service user",
    "sessions": "Sessions",
    "tasks": "Tasks",
    "escalations": "Escalations",
    "discussion_items": "Discussion items",
}


async def export(
    environ: Mapping[str, str],
    case_reference: str,
    out: Path,
    *,
    yes: bool = False,
    by: str = "",
    schema: str = DEFAULT_SCHEMA,
    ask: Ask = input,
    stdout: TextIO | None = None,
    clock: Clock | None = None,
) -> list[Path]:
    """Writes everything held about the case into out, once confirmed; returns the two files."""
    opened = await open_store(environ, schema=schema)
    try:
        found = await find_case(opened.stores.documents, case_reference)
        if found.empty:
            raise AdminError(f"Nothing is held about {case_reference} in {opened.where}.")
        print(summary(found), file=stdout)
        print(f"This writes all of it, readable, into {out}.", file=stdout)
        await confirm(case_reference, yes=yes, ask=ask)
        records = Records(opened.stores.documents, clock or SystemClock())
        now = records.now()
        who = actor(by)
        # Audited before anything is written: an export that fails half-way was still an export.
        await records.disclose(
            actor=who,
            record=f"{SERVICE_USERS}/{case_reference}",
            field="everything",
            reason="subject_access",
        )
    finally:
        await opened.stores.aclose()
    written = write_export(found, out, exported_at=now, exported_by=who)
    for path in written:
        print(f"wrote {path}", file=stdout)
    return written


def write_export(
    found: CaseRecords, out: Path, *, exported_at: datetime, exported_by: str
) -> list[Path]:
    """Writes the JSON and the readable document, each readable by the owner only."""
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    stem = f"{_safe(found.case_reference)}-{exported_at:%Y%m%dT%H%M%SZ}"
    held = {
        "case_reference": found.case_reference,
        "exported_at": exported_at.isoformat(),
        "exported_by": exported_by,
        "legal_hold": found.hold,
        "records": {collection: found.records.get(collection, []) for collection in TITLES},
        AUDIT: found.audit,
    }
    as_json = json.dumps(held, ensure_ascii=False, indent=2, sort_keys=True, default=str)
    paths = [out / f"{stem}.json", out / f"{stem}.md"]
    for path, text in zip(paths, (as_json, readable(found, exported_at, exported_by)), strict=True):
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text + "\n")
    return paths


def readable(found: CaseRecords, exported_at: datetime, exported_by: str) -> str:
    """The export as a document a person can read: each record, its answers, its audit trail."""
    lines = [
        f"# Everything SafeSession holds about case {found.case_reference}",
        "",
        f"Exported {exported_at.isoformat()} by {exported_by}. Times are ISO 8601 (UTC unless"
        " they say otherwise).",
        "",
        "> Before disclosing: check this for third parties (a guardian, people present, the"
        " workers) and redact as the law requires. SafeSession is not the case file: the notes"
        " of each session are in the service user's file.",
        "",
        "## Legal hold",
        "",
        _hold(found.hold),
    ]
    for collection in CASE_COLLECTIONS:
        held = found.records.get(collection, [])
        lines += ["", f"## {TITLES[collection]} ({len(held)})"]
        for record in held:
            lines += ["", *_record(collection, record)]
    lines += ["", f"## Audit trail ({len(found.audit)} events)", ""]
    lines += [
        "| when | who | action | record | field | clause | why |",
        "|---|---|---|---|---|---|---|",
    ]
    for event in found.audit:
        cells = [
            event.get(name, "")
            for name in ("at", "actor", "action", "record", "field", "clause", "reason")
        ]
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return "\n".join(lines)


def _record(collection: str, record: Mapping[str, Any]) -> list[str]:
    lines = [f"### {collection}/{record.get('key')}", ""]
    for name, value in sorted(record.items()):
        if name not in ("key", "answers"):
            lines.append(f"- {_label(name)}: {_value(value)}")
    answers = record.get("answers") or {}
    if answers:
        lines += ["", "Answers:", ""]
    for question, entry in answers.items():
        if not isinstance(entry, dict):
            continue
        said = f"- **{_label(question)}** ({question}"
        said += f", clause {entry['clause']}" if entry.get("clause") else ""
        said += f", recorded {entry.get('at') or 'at an unknown time'} by {entry.get('by') or '?'}"
        lines.append(said + "): " + _value(entry.get("value"), depth=1))
    return lines


def _value(value: Any, depth: int = 0) -> str:
    """A stored value as a reader would say it: yes/no, an address on one line, one line each."""
    if value is None or value == "":
        return "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict) and set(value) == {"lines", "postcode"}:
        return ", ".join([*map(str, value["lines"]), str(value["postcode"])])
    if isinstance(value, dict):
        return "; ".join(f"{_label(key)}: {_value(item)}" for key, item in value.items())
    if isinstance(value, list):
        if not value:
            return "(none)"
        indent = "  " * (depth + 1)
        return "".join(f"\n{indent}- {_value(item, depth + 1)}" for item in value)
    text = str(value)
    if "\n" in text:  # a message to copy: kept as its lines, quoted
        indent = "  " * (depth + 1)
        return "".join(f"\n{indent}> {line}".rstrip() for line in text.splitlines())
    return text


def _label(name: str) -> str:
    return str(name).replace("_", " ").capitalize()


def _hold(hold: Mapping[str, Any] | None) -> str:
    if not hold:
        return "None."
    if hold.get("held"):
        return f"On hold since {hold.get('since')} ({hold.get('by')})."
    return (
        f"Lifted {hold.get('lifted_at')} ({hold.get('lifted_by')}); held since {hold.get('since')}."
    )


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _safe(name: str) -> str:
    """A case reference as a file name (references are letters, digits and dashes anyway)."""
    return "".join(
        character if character.isalnum() or character in "-_" else "_" for character in name
    )


def main(argv: list[str], environ: Mapping[str, str]) -> int:
    """Runs the command line."""
    options = parser("python -m storage.export", __doc__.splitlines()[0])
    options.add_argument("--out", required=True, help="the folder to write the two files into")
    arguments = options.parse_args(argv)
    return run(
        "safesession export",
        export(
            environ,
            arguments.case.strip(),
            Path(arguments.out),
            yes=arguments.yes,
            by=arguments.by,
            schema=arguments.schema,
        ),
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], load_environment(dict(os.environ))))
