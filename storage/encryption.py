"""Encryption at rest: every answer and note is sealed with AES-GCM before it reaches a store.

The domain's records keep their shape; what changes is only what lies on disk or in PostgreSQL.
Each sealed value is `{"sealed": "<key id>:<base64 nonce+ciphertext>"}`; the key id lets a
rotation run record by record and be resumed, with both keys loaded meanwhile. Top-level fields
the store queries on (owner, status, open_journey, kind, …) stay in the clear; none of them holds
anything a child or family said.
"""

import base64
import functools
import json
import os
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from hashlib import sha256
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from safeguarding.ports import Document, Documents, Put, StoreStatus

if TYPE_CHECKING:
    from storage.stores import Stores

SEALED = "sealed"
# Top-level fields that hold personal details outside `answers`.
SENSITIVE_FIELDS = frozenset(
    {"pre_session_message", "outcome_note", "worker_reference", "callback_number"}
)
KEY_BYTES = 32
# Local mode only: the file beside the data that holds its key (app.py makes it on first run).
LOCAL_KEY_FILE = ".local-data-key"
# The collections whose records carry sealed values (rotation walks these).
SEALED_COLLECTIONS = (
    "service_users",
    "sessions",
    "workers",
    "escalations",
    "tasks",
    "discussion_items",
)


class DataKeyError(ValueError):
    """A data key is missing, malformed, or not the one the data was sealed with."""


@dataclass(frozen=True)
class Keyring:
    """The current key (for sealing) and any older ones (for opening, during a rotation)."""

    current_id: str
    keys: Mapping[str, bytes]

    @classmethod
    def from_setting(cls, value: str, *, previous: str = "") -> "Keyring":
        """Reads SAFESESSION_DATA_KEY (and an optional previous key) as url-safe base64."""
        current = _decode_key(value, "SAFESESSION_DATA_KEY")
        keys = {_key_id(current): current}
        if previous.strip():
            old = _decode_key(previous, "SAFESESSION_PREVIOUS_DATA_KEY")
            keys[_key_id(old)] = old
        return cls(current_id=_key_id(current), keys=keys)

    @staticmethod
    def generate() -> str:
        """Makes a new random key, as the setting expects it."""
        return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode()

    def seal(self, value: Any) -> dict[str, str]:
        """Encrypts one JSON value under the current key."""
        return self.seal_text(_json(value))

    def seal_text(self, plain: str) -> dict[str, str]:
        """Encrypts one value's JSON text under the current key."""
        nonce = os.urandom(12)
        key = _cipher(self.keys[self.current_id])
        cipher = key.encrypt(nonce, plain.encode(), self.current_id.encode())
        return {SEALED: f"{self.current_id}:{base64.b64encode(nonce + cipher).decode()}"}

    def open(self, sealed: Mapping[str, str]) -> Any:
        """Decrypts a sealed value with whichever key sealed it."""
        return json.loads(self.open_text(sealed))

    def open_text(self, sealed: Mapping[str, str]) -> str:
        """Decrypts a sealed value to its JSON text, with whichever key sealed it."""
        key_id, _, payload = sealed[SEALED].partition(":")
        key = self.keys.get(key_id)
        if key is None:
            raise DataKeyError(f"data was sealed with key {key_id}, which is not loaded")
        raw = base64.b64decode(payload)
        return _cipher(key).decrypt(raw[:12], raw[12:], key_id.encode()).decode()

    def sealed_with(self, document: Mapping[str, Any]) -> set[str]:
        """The ids of the keys a document's sealed values use (for rotation progress)."""
        return {value[SEALED].partition(":")[0] for value in _sealed_values(document)}


@functools.lru_cache(maxsize=8)
def _cipher(key: bytes) -> AESGCM:
    """One AES-GCM object per key, made once: making one costs more than sealing a value."""
    return AESGCM(key)


def has_clear_values(document: Mapping[str, Any]) -> bool:
    """Says whether anything sensitive in the record is still unsealed (written before a key)."""
    answers = document.get("answers") or {}
    clear_answer = any(
        isinstance(entry, dict) and "value" in entry and not is_sealed(entry["value"])
        for entry in answers.values()
    )
    clear_field = any(
        document[field] is not None and not is_sealed(document[field])
        for field in SENSITIVE_FIELDS & set(document)
    )
    return clear_answer or clear_field


def is_sealed(value: Any) -> bool:
    """Says whether a stored value is a sealed one."""
    return isinstance(value, dict) and set(value) == {SEALED} and isinstance(value[SEALED], str)


def seal_document(document: Mapping[str, Any], keyring: Keyring) -> Document:
    """Seals every answer value and every sensitive top-level field."""
    return _seal_with(document, _Sealer(keyring, None))


def open_document(document: Mapping[str, Any], keyring: Keyring) -> Document:
    """Opens every sealed value, giving the record back as the domain wrote it."""
    return _open_with(document, _Opener(keyring, None))


def _seal_with(document: Mapping[str, Any], sealer: "_Sealer") -> Document:
    sealed: Document = dict(document)
    answers = document.get("answers")
    if isinstance(answers, dict):
        sealed["answers"] = {
            question: sealer.entry(question, entry) for question, entry in answers.items()
        }
    for field in SENSITIVE_FIELDS & set(document):
        if document[field] is not None and not is_sealed(document[field]):
            sealed[field] = sealer.value(f"/{field}", document[field])
    return sealed


def _open_with(document: Mapping[str, Any], opener: "_Opener") -> Document:
    opened: Document = dict(document)
    answers = document.get("answers")
    if isinstance(answers, dict):
        opened["answers"] = {
            question: opener.entry(question, entry) for question, entry in answers.items()
        }
    for field in SENSITIVE_FIELDS & set(document):
        if is_sealed(document[field]):
            opened[field] = opener.value(f"/{field}", document[field])
    return opened


# One sealed value of a document: its sealed text and its JSON text, by answer (question) or by
# "/" and the field's name.
Slots = dict[str, tuple[str, str]]
# How many documents' slots EncryptedDocuments keeps (a few MB at most).
REMEMBERED_DOCUMENTS = 2048


class _Sealer:
    """Seals a document's values, reusing the sealed text of a slot whose value is unchanged."""

    def __init__(self, keyring: Keyring, slots: Slots | None) -> None:
        self._keyring = keyring
        self._before = slots or {}
        self.slots: Slots = {}

    def entry(self, name: str, entry: Any) -> Any:
        if not isinstance(entry, dict) or "value" not in entry or is_sealed(entry["value"]):
            return entry
        return {**entry, "value": self.value(name, entry["value"])}

    def value(self, name: str, value: Any) -> dict[str, str]:
        plain = _json(value)
        sealed_text, was = self._before.get(name, ("", ""))
        if was == plain and sealed_text.startswith(self._keyring.current_id + ":"):
            sealed = {SEALED: sealed_text}  # the same text under the current key: nothing new
        else:
            sealed = self._keyring.seal_text(plain)
        self.slots[name] = (sealed[SEALED], plain)
        return sealed


class _Opener:
    """Opens a document's values, skipping the decryption of sealed text it has seen."""

    def __init__(self, keyring: Keyring, slots: Slots | None) -> None:
        self._keyring = keyring
        self._before = slots or {}
        self.slots: Slots = {}

    def entry(self, name: str, entry: Any) -> Any:
        if not isinstance(entry, dict) or not is_sealed(entry.get("value")):
            return entry
        return {**entry, "value": self.value(name, entry["value"])}

    def value(self, name: str, sealed: Mapping[str, str]) -> Any:
        known = self._before.get(name)
        if known is not None and known[0] == sealed[SEALED]:
            plain = known[1]
        else:
            plain = self._keyring.open_text(sealed)
        self.slots[name] = (sealed[SEALED], plain)
        return json.loads(plain)


class EncryptedDocuments:
    """The Documents port, sealing on the way in and opening on the way out.

    It remembers, for the documents used most recently, each sealed value's text beside its
    JSON (`Slots`): reading a document again decrypts only what changed, and writing one back
    re-encrypts only the values that changed (the same slot, the same value, the current key).
    Nothing is shared between documents, so equal values in two records still get different
    sealed text. The memory is this process's only, bounded, and a deleted document is forgotten.
    """

    def __init__(self, inner: Documents, keyring: Keyring) -> None:
        self._inner = inner
        self._keyring = keyring
        self._remembered: OrderedDict[tuple[str, str], Slots] = OrderedDict()

    async def get(self, *, collection: str, key: str) -> Document | None:
        """Returns the opened document, or None."""
        found = await self._inner.get(collection=collection, key=key)
        if found is None:
            self._forget(collection, key)
            return None
        opener = _Opener(self._keyring, self._remembered.get((collection, key)))
        opened = _open_with(found, opener)
        self._remember(collection, key, opener.slots)
        return opened

    async def put(self, *, collection: str, key: str, document: Document) -> None:
        """Seals and stores the document."""
        await self.put_all([Put(collection, key, document)])

    async def put_all(self, puts: Sequence[Put]) -> None:
        """Seals every document given and stores them as one write."""
        sealers = [
            _Sealer(self._keyring, self._remembered.get((p.collection, p.key))) for p in puts
        ]
        sealed = [
            Put(put.collection, put.key, _seal_with(put.document, sealer))
            for put, sealer in zip(puts, sealers, strict=True)
        ]
        for put in puts:  # if the write fails, what is stored is unknown
            self._forget(put.collection, put.key)
        if len(sealed) == 1:  # the store's own put: the same write, and the commoner call
            [one] = sealed
            await self._inner.put(collection=one.collection, key=one.key, document=one.document)
        else:
            await self._inner.put_all(sealed)
        for put, sealer in zip(puts, sealers, strict=True):
            self._remember(put.collection, put.key, sealer.slots)

    async def delete(self, *, collection: str, key: str) -> bool:
        """Removes the document, and what was remembered of it (again once it is gone: a read
        meanwhile may have remembered it)."""
        self._forget(collection, key)
        try:
            return await self._inner.delete(collection=collection, key=key)
        finally:
            self._forget(collection, key)

    async def find(
        self, *, collection: str, where: Mapping[str, Any] | None = None
    ) -> list[Document]:
        """Finds by clear top-level fields and opens what it finds."""
        found = await self._inner.find(collection=collection, where=where)
        return [open_document(document, self._keyring) for document in found]

    async def status(self) -> StoreStatus:
        """Says whether the store underneath can be used."""
        return await self._inner.status()

    def _remember(self, collection: str, key: str, slots: Slots) -> None:
        self._remembered[(collection, key)] = slots
        self._remembered.move_to_end((collection, key))
        while len(self._remembered) > REMEMBERED_DOCUMENTS:
            self._remembered.popitem(last=False)

    def _forget(self, collection: str, key: str) -> None:
        self._remembered.pop((collection, key), None)


def _sealed_values(document: Mapping[str, Any]) -> list[dict[str, str]]:
    values = [
        entry["value"]
        for entry in (document.get("answers") or {}).values()
        if isinstance(entry, dict) and is_sealed(entry.get("value"))
    ]
    values += [
        document[field] for field in SENSITIVE_FIELDS & set(document) if is_sealed(document[field])
    ]
    return values


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _decode_key(value: str, name: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(value.strip().encode())
    except (ValueError, TypeError):
        raise DataKeyError(
            f"{name} is not base64: make one with `python -m storage.rotate_key --new-key`."
        ) from None
    if len(key) != KEY_BYTES:
        raise DataKeyError(f"{name} must be {KEY_BYTES} bytes of url-safe base64 (44 characters).")
    return key


def _key_id(key: bytes) -> str:
    return sha256(key).hexdigest()[:8]


def sealed(stores: "Stores", keyring: Keyring) -> "Stores":
    """The same stores, with the Documents port sealing everything sensitive."""
    return replace(stores, documents=EncryptedDocuments(stores.documents, keyring))
