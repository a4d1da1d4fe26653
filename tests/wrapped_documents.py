"""A stand-in for the Documents port that passes every call to a real store; a test overrides
only the call it watches or fails."""

from typing import Any


class WrappedDocuments:
    """The Documents port of inner, call for call, until a subclass says otherwise."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
