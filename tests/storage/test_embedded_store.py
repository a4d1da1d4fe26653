"""The embedded TinyDB store's own promises: durable, refuses corrupt data, honest status.

The journal's own behaviour (torn lines, compaction, replay) is in test_journal.py.
"""

import os
import shutil
import stat
from pathlib import Path

import pytest
from botbuilder.core.adapters import TestAdapter
from botbuilder.dialogs import DialogState
from tinydb.storages import JSONStorage

from safeguarding.ports import StoreLocked, StoreUnavailable
from storage import open_embedded
from storage.engine import DATABASE_NAME, LOCK_NAME, KeyedTinyDB, TinyDBRecords
from storage.journal import journal_generations

from .test_bot_storage_contract import greeting_bot


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Where the store lives; it does not exist yet."""
    return tmp_path / "data" / "store"


def write_store_file(folder: Path, content: bytes) -> None:
    """Puts a store file with exactly this content in place, as a crash or an operator might."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / DATABASE_NAME).write_bytes(content)


def replace_with_a_file(folder: Path) -> None:
    """Removes the store folder and puts a file in its place, which stops even root writing."""
    shutil.rmtree(folder)
    folder.write_text("a file where the folder was")


async def test_data_survives_closing_and_reopening(folder: Path) -> None:
    with open_embedded(folder) as stores:
        await stores.documents.put(collection="cases", key="CR-1", document={"n": 1})
        await stores.documents.put(collection="cases", key="CR-2", document={"n": 2})
        await stores.documents.delete(collection="cases", key="CR-2")
        await stores.bot_storage.write({"conv": {"dialog_state": DialogState()}})

    with open_embedded(folder) as reopened:
        assert await reopened.documents.find(collection="cases") == [{"n": 1}]
        item = (await reopened.bot_storage.read(["conv"]))["conv"]
        assert isinstance(item["dialog_state"], DialogState)


async def test_a_dialog_resumes_after_a_restart(folder: Path) -> None:
    state_keys: list[str] = []
    with open_embedded(folder) as stores:
        await TestAdapter(greeting_bot(stores.bot_storage, state_keys)).test(
            "hi", "What is your name?"
        )

    with open_embedded(folder) as restarted:
        await TestAdapter(greeting_bot(restarted.bot_storage, state_keys)).test("Ann", "Hello Ann")


def test_the_folder_is_created_for_its_owner_only(folder: Path) -> None:
    with open_embedded(folder):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert stat.S_IMODE((folder / DATABASE_NAME).stat().st_mode) == 0o600
        assert stat.S_IMODE(journal(folder).stat().st_mode) == 0o600


def journal(folder: Path) -> Path:
    """The journal commits are appended to now."""
    return folder / f"safesession.journal.{journal_generations(folder)[-1]:08d}"


async def test_after_compaction_the_file_is_a_tinydb_database_keyed_by_our_keys(
    folder: Path,
) -> None:
    with open_embedded(folder) as stores:
        await stores.documents.put(collection="cases", key="CR-1", document={"n": 1})
        assert isinstance(stores.backend, TinyDBRecords)
        await stores.backend.compact()

    path = str(folder / DATABASE_NAME)
    with KeyedTinyDB(path, storage=JSONStorage, access_mode="r") as plain_tinydb:
        rows = plain_tinydb.table("cases")
        assert [(doc.doc_id, dict(doc)) for doc in rows.all()] == [("CR-1", {"n": 1})]


@pytest.mark.parametrize(
    "content",
    [b"", b"   \n", b'{"cases": {"CR-1": {"n": 1}', b"\xff\xfe{}", b"[]", b'{"cases": []}'],
    ids=["empty", "blank", "truncated", "not-utf8", "list", "bad-table"],
)
def test_a_corrupt_file_is_refused_and_left_untouched(folder: Path, content: bytes) -> None:
    folder.mkdir(parents=True)
    (folder / DATABASE_NAME).write_bytes(content)

    with pytest.raises(StoreUnavailable) as refused:
        open_embedded(folder)

    assert str(folder / DATABASE_NAME) in str(refused.value)
    assert "refusing to start with an empty store" in str(refused.value)
    assert not isinstance(refused.value, StoreLocked)
    assert (folder / DATABASE_NAME).read_bytes() == content


async def test_a_refused_open_lets_go_of_the_folder(folder: Path) -> None:
    write_store_file(folder, b"{corrupt")
    with pytest.raises(StoreUnavailable):
        open_embedded(folder)

    write_store_file(folder, b'{"cases": {"CR-1": {"n": 1}}}')
    with open_embedded(folder) as stores:
        assert await stores.documents.get(collection="cases", key="CR-1") == {"n": 1}


def test_an_unreadable_file_is_refused(folder: Path) -> None:
    (folder / DATABASE_NAME).mkdir(parents=True)

    with pytest.raises(StoreUnavailable, match="Could not read the store file"):
        open_embedded(folder)


def test_a_folder_path_that_is_a_file_is_refused(folder: Path) -> None:
    folder.parent.mkdir(parents=True)
    folder.write_text("not a folder")

    with pytest.raises(StoreUnavailable):
        open_embedded(folder)


async def test_temp_files_left_by_a_crash_are_removed_at_open(folder: Path) -> None:
    with open_embedded(folder) as stores:
        await stores.documents.put(collection="cases", key="CR-1", document={"n": 1})
    orphans = [folder / f"{DATABASE_NAME}.abc123.tmp", folder / f"{DATABASE_NAME}.x.tmp"]
    for orphan in orphans:
        orphan.write_text('{"half": ')
    unrelated = folder / "notes.tmp"
    unrelated.write_text("keep me")

    with open_embedded(folder) as reopened:
        assert not any(orphan.exists() for orphan in orphans)
        assert unrelated.read_text() == "keep me"
        assert await reopened.documents.get(collection="cases", key="CR-1") == {"n": 1}


def test_a_second_open_in_this_process_is_refused_until_the_first_closes(
    folder: Path,
) -> None:
    first = open_embedded(folder)

    with pytest.raises(StoreLocked) as refused:
        open_embedded(folder)
    assert "another SafeSession process" in str(refused.value)
    assert str(folder) in str(refused.value)
    assert f"pid {os.getpid()}" in str(refused.value)

    first.close()
    open_embedded(folder).close()
    assert (folder / LOCK_NAME).exists()


async def test_each_write_appends_one_line_and_fdatasyncs_it_before_returning(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_embedded(folder) as stores:
        before = (folder / DATABASE_NAME).stat().st_ino
        synced: list[str] = []
        real_fdatasync = os.fdatasync

        def spy(descriptor: int) -> None:
            synced.append(os.readlink(f"/proc/self/fd/{descriptor}"))
            real_fdatasync(descriptor)

        monkeypatch.setattr(os, "fdatasync", spy)
        monkeypatch.setattr(os, "fsync", lambda _descriptor: pytest.fail("no fsync expected"))
        await stores.documents.put(collection="cases", key="CR-1", document={"n": 1})
        monkeypatch.undo()

        assert synced == [str(journal(folder))]
        assert journal(folder).read_bytes().count(b"\n") == 1
        assert (folder / DATABASE_NAME).stat().st_ino == before
        assert sorted(os.listdir(folder)) == sorted(
            [DATABASE_NAME, LOCK_NAME, journal(folder).name]
        )


async def test_a_change_that_needs_no_write_does_not_touch_the_files(folder: Path) -> None:
    with open_embedded(folder) as stores:
        before = (folder / DATABASE_NAME).stat().st_ino

        assert await stores.documents.delete(collection="cases", key="missing") is False
        await stores.bot_storage.delete(["missing"])

        assert (folder / DATABASE_NAME).stat().st_ino == before
        assert journal(folder).stat().st_size == 0


async def test_reads_are_served_from_memory(folder: Path) -> None:
    with open_embedded(folder) as stores:
        await stores.documents.put(collection="cases", key="CR-1", document={"n": 1})
        (folder / DATABASE_NAME).unlink()

        assert await stores.documents.get(collection="cases", key="CR-1") == {"n": 1}
        assert (await stores.status()).ok is False


async def test_status_is_ok_for_a_healthy_store(folder: Path) -> None:
    with open_embedded(folder) as stores:
        status = await stores.status()

    assert (status.ok, status.backend, status.detail) == (True, "tinydb", "")


async def test_status_is_not_ok_when_the_folder_is_removed(folder: Path) -> None:
    with open_embedded(folder) as stores:
        shutil.rmtree(folder)

        status = await stores.status()
        assert status.ok is False
        assert status.detail == "store file is missing"
        assert str(folder) not in status.detail


async def test_status_is_not_ok_when_the_folder_is_replaced_by_a_file(folder: Path) -> None:
    with open_embedded(folder) as stores:
        replace_with_a_file(folder)

        assert (await stores.status()).ok is False


async def test_status_is_not_ok_when_the_file_is_swapped_underneath(folder: Path) -> None:
    with open_embedded(folder) as stores:
        copy = folder / "copy.json"
        shutil.copyfile(folder / DATABASE_NAME, copy)
        os.replace(copy, folder / DATABASE_NAME)

        status = await stores.status()
        assert (status.ok, status.detail) == (False, "store file was replaced by something else")


async def test_a_failed_write_raises_unavailable_and_keeps_the_old_state(folder: Path) -> None:
    with open_embedded(folder) as stores:
        await stores.documents.put(collection="cases", key="CR-1", document={"n": 1})
        replace_with_a_file(folder)

        with pytest.raises(StoreUnavailable, match="Could not write the store file"):
            await stores.documents.put(collection="cases", key="CR-1", document={"n": 2})
        with pytest.raises(StoreUnavailable):
            await stores.bot_storage.write({"a": {"n": 1}})

        assert await stores.documents.get(collection="cases", key="CR-1") == {"n": 1}
        assert await stores.bot_storage.read(["a"]) == {}
        status = await stores.status()
        assert (status.ok, status.detail) == (False, "the last write failed")
