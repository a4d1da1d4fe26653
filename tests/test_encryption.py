"""Encryption at rest: what reaches the store is sealed; the bot reads the record as written."""

import io
import json
from pathlib import Path

import pytest

from safeguarding.ports import Put
from storage import memory_stores, open_embedded
from storage.encryption import DataKeyError, EncryptedDocuments, Keyring, is_sealed

ADDRESS = {"lines": ["Flat 9", "1 Synthetic Street"], "postcode": "ZE9 9ZZ"}
SAFE_WORD = "periwinkle"
RECORD = {
    "key": "CR-7001",
    "owner": "aad-worker-1",
    "status": "planned",
    "answers": {
        "address_today": {"value": ADDRESS, "clause": "C2", "at": "", "by": "aad-worker-1"},
        "safe_word": {"value": SAFE_WORD, "clause": "B5", "at": "", "by": "aad-worker-1"},
    },
    "pre_session_message": "Hi, I'm Sam Worker, your worker.",
}


def test_sealed_values_open_back_to_what_was_written() -> None:
    keyring = Keyring.from_setting(Keyring.generate())
    sealed = keyring.seal({"a": ["é", 1, None]})
    assert is_sealed(sealed) and "é" not in json.dumps(sealed)
    assert keyring.open(sealed) == {"a": ["é", 1, None]}


def test_a_tampered_value_is_refused() -> None:
    keyring = Keyring.from_setting(Keyring.generate())
    sealed = keyring.seal("x")
    key_id, _, payload = sealed["sealed"].partition(":")
    tampered = {"sealed": f"{key_id}:{payload[:-4]}AAAA"}
    with pytest.raises(Exception):  # noqa: B017 - cryptography's InvalidTag
        keyring.open(tampered)


def test_data_sealed_under_another_key_needs_that_key() -> None:
    old, new = Keyring.generate(), Keyring.generate()
    sealed = Keyring.from_setting(old).seal("x")
    with pytest.raises(DataKeyError, match="not loaded"):
        Keyring.from_setting(new).open(sealed)
    assert Keyring.from_setting(new, previous=old).open(sealed) == "x"


@pytest.mark.parametrize("bad", ["", "not base64!", "c2hvcnQ="])
def test_a_malformed_key_is_refused_with_a_clear_message(bad: str) -> None:
    with pytest.raises(DataKeyError, match="SAFESESSION_DATA_KEY"):
        Keyring.from_setting(bad)


def store_files(folder: Path) -> str:
    """Every byte the store keeps on disk, as text."""
    return "".join(path.read_text(errors="replace") for path in folder.rglob("*") if path.is_file())


async def test_no_address_or_safe_word_reaches_the_store_file(tmp_path: Path) -> None:
    keyring = Keyring.from_setting(Keyring.generate())
    stores = open_embedded(tmp_path / "store")
    documents = EncryptedDocuments(stores.documents, keyring)
    await documents.put(collection="sessions", key="S-1", document=RECORD)
    assert await documents.get(collection="sessions", key="S-1") == RECORD
    assert await documents.find(collection="sessions", where={"status": "planned"}) == [RECORD]
    stores.close()
    on_disk = store_files(tmp_path / "store")
    for secret in [SAFE_WORD, "Synthetic Street", "ZE9 9ZZ", "Sam Worker"]:
        assert secret not in on_disk
    assert "aad-worker-1" in on_disk  # ids stay in the clear for the store to query


async def test_a_record_written_with_its_audit_event_is_sealed_too(tmp_path: Path) -> None:
    keyring = Keyring.from_setting(Keyring.generate())
    stores = open_embedded(tmp_path / "store")
    documents = EncryptedDocuments(stores.documents, keyring)
    event = {"key": "e-1", "action": "answer", "record": "sessions/S-1", "field": "safe_word"}
    await documents.put_all([Put("sessions", "S-1", RECORD), Put("audit", "e-1", event)])
    assert await documents.get(collection="sessions", key="S-1") == RECORD
    assert await documents.get(collection="audit", key="e-1") == event
    stores.close()
    on_disk = store_files(tmp_path / "store")
    for secret in [SAFE_WORD, "Synthetic Street", "ZE9 9ZZ", "Sam Worker"]:
        assert secret not in on_disk
    assert "sessions/S-1" in on_disk


async def test_records_written_before_encryption_are_still_read() -> None:
    stores = memory_stores()
    await stores.documents.put(collection="sessions", key="S-1", document=RECORD)
    documents = EncryptedDocuments(stores.documents, Keyring.from_setting(Keyring.generate()))
    assert await documents.get(collection="sessions", key="S-1") == RECORD


async def test_rotation_re_seals_everything_and_can_be_run_again(tmp_path: Path) -> None:
    from storage.rotate_key import rotate

    old, new = Keyring.generate(), Keyring.generate()
    folder = tmp_path / "store"
    stores = open_embedded(folder)
    written = EncryptedDocuments(stores.documents, Keyring.from_setting(old))
    for number in range(3):
        await written.put(
            collection="sessions", key=f"S-{number}", document={**RECORD, "key": f"S-{number}"}
        )
    await stores.documents.put(
        collection="sessions", key="S-clear", document={**RECORD, "key": "S-clear"}
    )
    stores.close()

    environ = {
        "SAFESESSION_DATA": str(folder),
        "SAFESESSION_DATA_KEY": new,
        "SAFESESSION_PREVIOUS_DATA_KEY": old,
    }
    log = io.StringIO()
    assert (await rotate(environ, out=log))["sessions"] == 4
    assert (await rotate(environ, out=log))["sessions"] == 0  # nothing left to do: resumable

    stores = open_embedded(folder)
    only_new = EncryptedDocuments(stores.documents, Keyring.from_setting(new))
    for key in ("S-0", "S-1", "S-2", "S-clear"):
        assert (await only_new.get(collection="sessions", key=key))["answers"] == RECORD["answers"]
    stores.close()


def answers_on_disk(document: dict[str, object]) -> dict[str, str]:
    """Each answer's sealed text, as the store holds it."""
    answers = document["answers"]
    assert isinstance(answers, dict)
    return {question: entry["value"]["sealed"] for question, entry in answers.items()}


async def test_a_write_back_re_encrypts_only_the_values_that_changed() -> None:
    stores = memory_stores()
    documents = EncryptedDocuments(stores.documents, Keyring.from_setting(Keyring.generate()))
    await documents.put(collection="sessions", key="S-1", document=RECORD)
    before = answers_on_disk(await stores.documents.get(collection="sessions", key="S-1") or {})
    record = await documents.get(collection="sessions", key="S-1")
    assert record is not None
    record["answers"]["safe_word"] = {**record["answers"]["safe_word"], "value": "heron"}
    await documents.put(collection="sessions", key="S-1", document=record)
    after = answers_on_disk(await stores.documents.get(collection="sessions", key="S-1") or {})
    assert after["address_today"] == before["address_today"]
    assert after["safe_word"] != before["safe_word"]
    assert (await documents.get(collection="sessions", key="S-1")) == record


async def test_equal_values_in_two_records_never_share_sealed_text() -> None:
    stores = memory_stores()
    documents = EncryptedDocuments(stores.documents, Keyring.from_setting(Keyring.generate()))
    for key in ("S-1", "S-2"):
        await documents.put(collection="sessions", key=key, document=RECORD)
        await documents.get(collection="sessions", key=key)
    one, two = [
        answers_on_disk(await stores.documents.get(collection="sessions", key=key) or {})
        for key in ("S-1", "S-2")
    ]
    assert one["safe_word"] != two["safe_word"]


async def test_a_record_changed_by_another_writer_is_read_as_it_now_is() -> None:
    keyring = Keyring.from_setting(Keyring.generate())
    stores = memory_stores()
    documents = EncryptedDocuments(stores.documents, keyring)
    other = EncryptedDocuments(stores.documents, keyring)  # another instance on the same store
    await documents.put(collection="sessions", key="S-1", document=RECORD)
    assert await documents.get(collection="sessions", key="S-1") == RECORD
    changed = {**RECORD, "answers": {**RECORD["answers"], "safe_word": {"value": "heron"}}}
    await other.put(collection="sessions", key="S-1", document=changed)
    assert await documents.get(collection="sessions", key="S-1") == changed
    await other.delete(collection="sessions", key="S-1")
    assert await documents.get(collection="sessions", key="S-1") is None


async def test_an_unchanged_value_is_sealed_again_under_a_new_key() -> None:
    old, new = Keyring.generate(), Keyring.generate()
    stores = memory_stores()
    await EncryptedDocuments(stores.documents, Keyring.from_setting(old)).put(
        collection="sessions", key="S-1", document=RECORD
    )
    rotated = Keyring.from_setting(new, previous=old)
    documents = EncryptedDocuments(stores.documents, rotated)
    record = await documents.get(collection="sessions", key="S-1")
    assert record == RECORD
    await documents.put(collection="sessions", key="S-1", document=record)
    stored = await stores.documents.get(collection="sessions", key="S-1")
    assert rotated.sealed_with(stored or {}) == {rotated.current_id}
