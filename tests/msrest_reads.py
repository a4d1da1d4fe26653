"""What msrest makes of inbound JSON, and each place the fast reader's model graph differs from it.

Two graphs are the same when every object has the same type (model class, dict, list, str, int,
bool, float, datetime, tzinfo), every model the same attributes in the same order, every dict the
same keys in the same order, every datetime the same fields and an equal tzinfo of the same class,
and when each shares a dict or list with the payload it was read from in the same places (msrest
keeps unknown keys' values as they came, and copies everything else).
"""

import copy
import datetime
import json
from collections.abc import Callable
from typing import Any

from botbuilder.schema import Activity
from msrest.serialization import Model

import bot.activity_json


def containers(value: Any) -> set[int]:
    """The ids of every dict and list in a JSON value."""
    found: set[int] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            found.add(id(item))
            stack.extend(item.values())
        elif isinstance(item, list):
            found.add(id(item))
            stack.extend(item)
    return found


def serialized(model: Any) -> str:
    """msrest's own JSON for a model (on a copy: it rewrites lists in place), or what it raised."""
    try:
        return json.dumps(copy.deepcopy(model).serialize())
    except Exception as error:
        return f"raises {type(error).__name__}"


def differences(ours: Any, theirs: Any, *, read_from: tuple[Any, Any]) -> list[str]:
    """Where the fast reader's graph (read from read_from[0]) and msrest's (from [1]) differ."""
    found: list[str] = []
    shared = (containers(read_from[0]), containers(read_from[1]))
    _compare(ours, theirs, type(theirs).__name__, shared, found)
    if not found and isinstance(theirs, Model) and serialized(ours) != serialized(theirs):
        found.append("msrest serializes them differently")
    return found


def _compare(
    ours: Any, theirs: Any, path: str, shared: tuple[set[int], set[int]], found: list[str]
) -> None:
    if type(ours) is not type(theirs):
        found.append(f"{path}: {type(ours).__name__} where msrest has {type(theirs).__name__}")
        return
    if isinstance(ours, dict | list) and (id(ours) in shared[0]) != (id(theirs) in shared[1]):
        found.append(f"{path}: shared with the payload in only one")
    if isinstance(ours, Model):
        _compare(list(vars(ours)), list(vars(theirs)), f"{path} attributes", shared, found)
        for name, value in vars(theirs).items():
            _compare(getattr(ours, name, None), value, f"{path}.{name}", shared, found)
    elif isinstance(ours, dict):
        if list(ours) != list(theirs):
            found.append(f"{path}: keys {list(ours)} where msrest has {list(theirs)}")
            return
        for key, value in theirs.items():
            _compare(ours[key], value, f"{path}[{key!r}]", shared, found)
    elif isinstance(ours, list):
        if len(ours) != len(theirs):
            found.append(f"{path}: {len(ours)} items where msrest has {len(theirs)}")
            return
        for index, (mine, its) in enumerate(zip(ours, theirs, strict=True)):
            _compare(mine, its, f"{path}[{index}]", shared, found)
    elif isinstance(ours, datetime.datetime):
        fields = (ours.replace(tzinfo=None), ours.fold, ours == theirs)
        if fields != (theirs.replace(tzinfo=None), theirs.fold, True):
            found.append(f"{path}: {ours!r} where msrest has {theirs!r}")
        _compare_zones(ours.tzinfo, theirs.tzinfo, f"{path}.tzinfo", found)
    elif isinstance(ours, float):
        if repr(ours) != repr(theirs):  # nan, -0.0
            found.append(f"{path}: {ours!r} where msrest has {theirs!r}")
    elif ours != theirs:
        found.append(f"{path}: {ours!r} where msrest has {theirs!r}")


def _compare_zones(ours: Any, theirs: Any, path: str, found: list[str]) -> None:
    if ours is None or theirs is None:
        if ours is not theirs:
            found.append(f"{path}: {ours!r} where msrest has {theirs!r}")
        return
    if type(ours) is not type(theirs) or vars(ours) != vars(theirs):
        found.append(f"{path}: {ours!r} where msrest has {theirs!r}")
    # isodate hands out one UTC object; every offset is an object of its own.
    if (ours is theirs) != (type(theirs).__name__ == "Utc"):
        found.append(f"{path}: {ours!r} is {'not ' if ours is not theirs else ''}msrest's own")


def read_both(model: Any, payload: Any, read: Callable[[Any], Any]) -> tuple[Any, list[str]]:
    """The fast reader's answer for a payload, and where it differs from what msrest makes of it.

    None (leaving the payload to msrest) never differs; a model where msrest refuses always does.
    """
    untouched = copy.deepcopy(payload)
    ours = read(payload)
    problems = [] if repr(payload) == repr(untouched) else ["the fast reader changed the payload"]
    theirs_from = copy.deepcopy(untouched)
    try:
        theirs = model.deserialize(theirs_from)
    except Exception as error:
        if ours is not None:
            problems.append(f"msrest refuses it ({type(error).__name__}), the fast reader read it")
        return ours, problems
    if ours is not None:
        problems += differences(ours, theirs, read_from=(payload, theirs_from))
    return ours, problems


class ReadTwice:
    """Stands in for bot.http's fast readers, reading each payload with msrest too."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.read = 0

    def activity_from_json(self, payload: Any) -> Any:
        return self._checked(Activity, payload, bot.activity_json.activity_from_json)

    def model_from_json(self, model: Any, payload: Any) -> Any:
        return self._checked(
            model, payload, lambda data: bot.activity_json.model_from_json(model, data)
        )

    def _checked(self, model: Any, payload: Any, read: Callable[[Any], Any]) -> Any:
        self.read += 1
        ours, problems = read_both(model, payload, read)
        ident = payload.get("id") if isinstance(payload, dict) else None
        self.problems += [f"{model.__name__} {ident!r}: {problem}" for problem in problems]
        return ours
