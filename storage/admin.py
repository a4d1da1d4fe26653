"""What the admin commands share: the store opened and sealed as the bot opens it, and a prompt.

    python -m storage.export --case REF --out FOLDER   subject access: everything about a case
    python -m storage.erase --case REF                 erasure, leaving an audit tombstone
    python -m storage.hold --case REF --on|--off       legal hold: nothing about it is purged
    python -m storage.purge [--dry-run]                the nightly retention purge, now

Each reads the bot's own settings (the environment, then .env): DATABASE_URL selects PostgreSQL,
otherwise the embedded store in SAFESESSION_DATA; SAFESESSION_DATA_KEY (with
SAFESESSION_PREVIOUS_DATA_KEY during a rotation) opens the sealed answers, or in local mode the
key file the bot made beside its data. The embedded store allows one process: stop the bot first.
Every change is audited under `--by` (default `admin:<your login>`).
"""

import argparse
import asyncio
import getpass
import hmac
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path
from typing import TextIO

import psycopg

from bot.settings import PROJECT_ROOT, SettingsError
from safeguarding.case_records import CaseRecords, OnLegalHold, is_held
from safeguarding.ports import Documents, StoreLocked, StoreUnavailable
from storage.encryption import LOCAL_KEY_FILE, DataKeyError, Keyring, sealed
from storage.journal import DATABASE_NAME
from storage.postgres import DEFAULT_SCHEMA, describe_server, first_line
from storage.stores import Stores

Ask = Callable[[str], str]


class AdminError(Exception):
    """Why an admin command did nothing; the message says what to do instead."""


class Declined(Exception):
    """The admin did not confirm, so nothing was done."""


@dataclass(frozen=True)
class Opened:
    """The stores, sealed with the data key as the bot's are, and where they are."""

    stores: Stores
    keyring: Keyring
    where: str
    # The same store without the sealing, for re-sealing under a new key.
    raw: Documents


def data_folder(environ: Mapping[str, str]) -> Path:
    """The embedded store's folder, as the bot's settings find it."""
    return Path(environ.get("SAFESESSION_DATA", "").strip() or PROJECT_ROOT / "data")


def keyring_for(environ: Mapping[str, str]) -> Keyring:
    """The data key (and any previous one), or local mode's key file beside the data."""
    key = environ.get("SAFESESSION_DATA_KEY", "").strip()
    if not key:
        local = environ.get("SAFESESSION_LOCAL", "").strip().lower() in ("1", "true", "yes")
        path = data_folder(environ) / LOCAL_KEY_FILE
        if not local:
            raise AdminError(
                "SAFESESSION_DATA_KEY is not set: it is needed to read the sealed records. Set it"
                " as the bot has it (or SAFESESSION_LOCAL=1 for a local, synthetic store)."
            )
        if not path.is_file():
            raise AdminError(f"There is no local data key in {path}: has the bot run here?")
        key = path.read_text().strip()
    try:
        return Keyring.from_setting(key, previous=environ.get("SAFESESSION_PREVIOUS_DATA_KEY", ""))
    except DataKeyError as error:
        raise AdminError(str(error)) from None


async def open_store(environ: Mapping[str, str], *, schema: str = DEFAULT_SCHEMA) -> Opened:
    """Opens the bot's store, sealed with its key; refuses a store the bot has open."""
    from storage import open_embedded, postgres_stores

    keyring = keyring_for(environ)
    url = environ.get("DATABASE_URL", "").strip()
    if url:
        stores = postgres_stores(url, schema=schema, max_connections=2)
        where = f"PostgreSQL at {describe_server(url)}, schema {schema}"
    else:
        folder = data_folder(environ)
        if not (folder / DATABASE_NAME).is_file():
            raise AdminError(f"There is no SafeSession store in {folder}.")
        try:
            stores = open_embedded(folder)
        except StoreLocked:
            raise AdminError(
                f"SafeSession is running on {folder}: the store is locked while the bot has it"
                " open (one process at a time). Stop the bot, run this again, then start it."
            ) from None
        where = f"the embedded store in {folder}"
    try:
        await stores.open()
    except BaseException:
        await stores.aclose()
        raise
    return Opened(
        stores=sealed(stores, keyring), keyring=keyring, where=where, raw=stores.documents
    )


def actor(given: str) -> str:
    """Who the audit log names for this command."""
    return given.strip() or f"admin:{getpass.getuser()}"


def case_fingerprint(keyring: Keyring, case_reference: str) -> str:
    """Names an erased case in the audit log without its reference: a keyed hash, checkable
    only with the data key in force when it was written."""
    key = keyring.keys[keyring.current_id]
    digest = hmac.new(key, f"case:{case_reference}".encode(), sha256).hexdigest()
    return f"case:{digest[:20]}"


async def confirm(case_reference: str, *, yes: bool, ask: Ask) -> None:
    """Asks for the case reference to be typed back; raises Declined for anything else."""
    if yes:
        return
    prompt = f"Type the case reference ({case_reference}) to go ahead, or Enter to stop: "
    try:
        # Off the event loop: the store's connections stay serviced while the admin reads.
        answer = await asyncio.to_thread(ask, prompt)
    except EOFError:
        answer = ""
    if answer.strip() != case_reference:
        raise Declined()


def summary(found: CaseRecords) -> str:
    """What is held about a case, counted (never shown), for the admin to check before going on."""
    counts = ", ".join(f"{name}: {count}" for name, count in found.counts().items() if count)
    hold = " It is on legal hold." if is_held(found.hold) else ""
    return f"Held about {found.case_reference}: {counts or 'no records'}.{hold}"


def parser(
    prog: str, description: str, *, case: bool = True, confirms: bool = True
) -> argparse.ArgumentParser:
    """The options every admin command takes."""
    built = argparse.ArgumentParser(prog=prog, description=description)
    if case:
        built.add_argument("--case", required=True, help="the case reference, e.g. CR-1042")
    if confirms:
        built.add_argument(
            "--yes", action="store_true", help="don't ask for the case reference (for scripts)"
        )
    built.add_argument("--by", default="", help="who to name in the audit log (admin:<login>)")
    built.add_argument(
        "--schema", default=DEFAULT_SCHEMA, help="PostgreSQL schema (default: %(default)s)"
    )
    return built


def run(name: str, work: Awaitable[object], *, err: TextIO | None = None) -> int:
    """Runs a command; says plainly why nothing was done, with an exit code for scripts."""
    err = err or sys.stderr
    try:
        asyncio.run(_awaited(work))
    except Declined:
        print(f"{name}: not confirmed; nothing was changed.", file=err)
        return 1
    except OnLegalHold as held:
        print(
            f"{name}: {held} is on legal hold, so nothing about it may be erased. Lift the hold"
            f" first (python -m storage.hold --case {held} --off) if that is decided.",
            file=err,
        )
        return 2
    except (AdminError, SettingsError) as error:
        print(f"{name}: {error}", file=err)
        return 2
    except StoreUnavailable as error:
        print(f"{name}: {error}", file=err)
        return 3
    except psycopg.Error as error:  # the first line names the problem, not the row's values
        print(f"{name}: PostgreSQL refused ({first_line(error)}).", file=err)
        return 3
    except OSError as error:  # the export folder: not writable, or the file already there
        print(f"{name}: could not write {error.filename}: {error.strerror}.", file=err)
        return 2
    return 0


async def _awaited(work: Awaitable[object]) -> None:
    await work
