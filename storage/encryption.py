"""Encryption at rest: every answer and note is sealed with AES-GCM before it reaches a store.

The domain's records keep their shape; what changes is only what lies on disk or in PostgreSQL.
Each sealed value is `{"sealed": "<key id>:<base64 nonce+ciphertext>"}`; the key id lets a
rotation run record by record and be resumed, with both keys loaded meanwhile. Top-level fields
the store queries on (owner, status, open_journey, kind, …) stay in the clear; none of them holds
anything a child or family said.
"""

import base64
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from hashlib import sha256
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from safeguarding.ports import Document, Documents, StoreStatus

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
        nonce = os.urandom(12)
        plain = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
        cipher = AESGCM(self.keys[self.current_id]).encrypt(nonce, plain, self.current_id.encode())
        return {SEALED: f"{self.current_id}:{base64.b64encode(nonce + cipher).decode()}"}

    def open(self, sealed: Mapping[str, str]) -> Any:
        """Decrypts a sealed value with whichever key sealed it."""
        key_id, _, payload = sealed[SEALED].partition(":")
        key = self.keys.get(key_id)
        if key is None:
            raise DataKeyError(f"data was sealed with key {key_id}, which is not loaded")
        raw = base64.b64decode(payload)
        plain = AESGCM(key).decrypt(raw[:12], raw[12:], key_id.encode())
        return json.loads(plain)

    def sealed_with(self, document: Mapping[str, Any]) -> set[str]:
        """The ids of the keys a document's sealed values use (for rotation progress)."""
        return {value[SEALED].partition(":")[0] for value in _sealed_values(document)}


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
    sealed: Document = dict(document)
    answers = document.get("answers")
    if isinstance(answers, dict):
        sealed["answers"] = {
            question: _seal_entry(entry, keyring) for question, entry in answers.items()
        }
    for field in SENSITIVE_FIELDS & set(document):
        if document[field] is not None and not is_sealed(document[field]):
            sealed[field] = keyring.seal(document[field])
    return sealed


def open_document(document: Mapping[str, Any], keyring: Keyring) -> Document:
    """Opens every sealed value, giving the record back as the domain wrote it."""
    opened: Document = dict(document)
    answers = document.get("answers")
    if isinstance(answers, dict):
        opened["answers"] = {
            question: _open_entry(entry, keyring) for question, entry in answers.items()
        }
    for field in SENSITIVE_FIELDS & set(document):
        if is_sealed(document[field]):
            opened[field] = keyring.open(document[field])
    return opened


class EncryptedDocuments:
    """The Documents port, sealing on the way in and opening on the way out."""

    def __init__(self, inner: Documents, keyring: Keyring) -> None:
        self._inner = inner
        self._keyring = keyring

    async def get(self, *, collection: str, key: str) -> Document | None:
        """Returns the opened document, or None."""
        found = await self._inner.get(collection=collection, key=key)
        return None if found is None else open_document(found, self._keyring)

    async def put(self, *, collection: str, key: str, document: Document) -> None:
        """Seals and stores the document."""
        await self._inner.put(
            collection=collection, key=key, document=seal_document(document, self._keyring)
        )

    async def delete(self, *, collection: str, key: str) -> bool:
        """Removes the document."""
        return await self._inner.delete(collection=collection, key=key)

    async def find(
        self, *, collection: str, where: Mapping[str, Any] | None = None
    ) -> list[Document]:
        """Finds by clear top-level fields and opens what it finds."""
        found = await self._inner.find(collection=collection, where=where)
        return [open_document(document, self._keyring) for document in found]

    async def status(self) -> StoreStatus:
        """Says whether the store underneath can be used."""
        return await self._inner.status()


def _seal_entry(entry: Any, keyring: Keyring) -> Any:
    if not isinstance(entry, dict) or "value" not in entry or is_sealed(entry["value"]):
        return entry
    return {**entry, "value": keyring.seal(entry["value"])}


def _open_entry(entry: Any, keyring: Keyring) -> Any:
    if not isinstance(entry, dict) or not is_sealed(entry.get("value")):
        return entry
    return {**entry, "value": keyring.open(entry["value"])}


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
