"""Activities to and from the Bot Connector's JSON, without msrest's generic (de)serializer.

msrest's `Serializer.body(activity, "Activity")` first runs the whole activity back through its
Deserializer, then walks it again, looking up every attribute's type by name on the way: it costs
more CPU than the rest of a turn. `activity_json` walks each model's `_attribute_map` once, with
an encoder made once per declared type, and gives the same dict as msrest for the values it knows
msrest writes that way: text (or text enums), exact bools, ints and floats, timezone-aware
datetimes, lists, dicts with text keys, JSON-like objects and nested models.

For anything else (a dict where a model belongs, a naive datetime, a tuple, an enum that is not
text, a model with flattened keys or validation rules) it answers None, and the caller hands the
activity to msrest: an activity is never sent differently from how msrest would send it.

Inbound, `activity_from_json` (and `model_from_json` for other models, such as Teams' channel
data) reads a JSON payload into the object graph `Model.deserialize` builds: the same model
classes, made through their constructors; unknown keys kept raw in `additional_properties`;
free-form values copied; timestamps parsed as msrest parses them (isodate's tzinfo objects,
fractions past microseconds cut off). It reads only what msrest keeps as it came: text, exact
bools, ints and floats, plain ISO 8601 timestamps (`2026-11-26T09:05:00.1234567Z`, with an offset
such as `+01:00` instead, or with no zone at all), lists, dicts and models of those, and JSON values
nested at most a few dozen deep. For anything else (a number where text belongs, which msrest
turns into text; "true" for a bool; a timestamp in another of isodate's forms; a shape msrest
refuses) it answers None, and the caller asks msrest.
"""

import datetime
import functools
import re
from collections.abc import Callable
from enum import Enum
from typing import Any, TypeVar

from botbuilder.schema import Activity
from botframework.connector import models
from isodate.isotzinfo import build_tzinfo
from msrest.serialization import Model

Encoder = Callable[[Any], Any]

# The models msrest's Serializer knows by name: ConnectorClient hands it exactly these.
KNOWN_TYPES: dict[str, type] = {
    name: value for name, value in vars(models).items() if isinstance(value, type)
}
# Declared types msrest writes with a converter of its own (dates, durations, bytes, ...).
MSREST_ONLY_TYPES = frozenset(
    {"rfc-1123", "unix-time", "duration", "date", "time", "decimal", "long", "bytearray", "base64"}
)
SCALARS = frozenset({str, int, bool, float})


class NotExact(Exception):
    """A value msrest might write differently from how this module would."""


def activity_json(activity: Any) -> dict[str, Any] | None:
    """Gives the activity as msrest's Serializer.body would, or None where only msrest knows."""
    try:
        return _model(activity)
    except (NotExact, AttributeError, TypeError, ValueError, OverflowError):
        return None


def _model(value: Any) -> dict[str, Any]:
    """Writes a model's set attributes under their JSON keys, in declaration order."""
    if not isinstance(value, Model):
        raise NotExact(type(value).__name__)
    written: dict[str, Any] = {}
    for attribute, key, encode in _fields(value.__class__):
        field = getattr(value, attribute)
        if field is not None:
            written[key] = encode(field)
    return written


@functools.cache
def _fields(model: Any) -> tuple[tuple[str, str, Encoder], ...]:
    """Each attribute of a model with its JSON key and encoder, if msrest writes it plainly."""
    # Read-only or constant attributes, XML models and additionalProperties are msrest's alone.
    if getattr(model, "_validation", None) or hasattr(model, "_xml_map"):
        raise NotExact(model.__name__)
    fields = []
    keys: set[str] = set()
    for attribute, description in model._attribute_map.items():
        key = description["key"]
        # A dotted key is a flattened path, and msrest keeps the first of two equal keys.
        plain = isinstance(key, str) and key and "." not in key and "\\" not in key
        if attribute == "additional_properties" or not plain or key in keys:
            raise NotExact(model.__name__)
        keys.add(key)
        fields.append((attribute, key, _encoder(description["type"])))
    return tuple(fields)


@functools.cache
def _encoder(declared: Any) -> Encoder:
    """The encoder for a declared msrest type: 'str', 'iso-8601', '[Attachment]', 'object', ..."""
    simple = SIMPLE_ENCODERS.get(declared) if isinstance(declared, str) else None
    if simple is not None:
        return simple
    if not isinstance(declared, str) or declared in MSREST_ONLY_TYPES:
        return _not_exact
    if len(declared) > 2 and declared[0] == "[" and declared[-1] == "]":
        return _list_of(_encoder(declared[1:-1]))
    if len(declared) > 2 and declared[0] == "{" and declared[-1] == "}":
        return _dict_of(_encoder(declared[1:-1]))
    known = KNOWN_TYPES.get(declared)
    if not declared.isidentifier() or (known is not None and issubclass(known, Enum)):
        return _not_exact
    return _model


def _not_exact(value: Any) -> Any:
    raise NotExact(type(value).__name__)


def _text(value: Any) -> str:
    """Text as msrest writes it: a text enum by its value."""
    if type(value) is str:
        return value
    if isinstance(value, Enum) and type(value.value) is str:
        return value.value
    raise NotExact(type(value).__name__)


def _exactly(kind: type) -> Encoder:
    """Passes a value of exactly this type through, both ways: msrest converts any other (5 to
    "5", "1" to True), so that is left to msrest."""

    def encode(value: Any) -> Any:
        if type(value) is not kind:
            raise NotExact(type(value).__name__)
        return value

    return encode


def _iso_8601(value: Any) -> str:
    """A timezone-aware datetime in UTC, to the millisecond at least, exactly as msrest does."""
    # msrest warns about naive datetimes (and reads them as UTC): leave those to it.
    if type(value) is not datetime.datetime or value.tzinfo is None:
        raise NotExact(type(value).__name__)
    utc = value.utctimetuple()
    if not 1 <= utc.tm_year <= 9999:
        raise NotExact("year out of range")
    # msrest's own quirk: the fraction comes from the original, never shorter than 3 digits.
    fraction = str(value.microsecond).rjust(6, "0").rstrip("0").ljust(3, "0")
    return (
        f"{utc.tm_year:04}-{utc.tm_mon:02}-{utc.tm_mday:02}"
        f"T{utc.tm_hour:02}:{utc.tm_min:02}:{utc.tm_sec:02}.{fraction}Z"
    )


def _object(value: Any) -> Any:
    """A free-form value (channel data, card content): JSON types and models, nothing else."""
    kind = type(value)
    if value is None or kind in SCALARS:
        return value
    if kind is dict:
        return {_key(key): _object(item) for key, item in value.items()}
    if kind is list:
        return [_object(item) for item in value]
    if isinstance(value, Model):
        return _model(value)
    raise NotExact(kind.__name__)


def _key(key: Any) -> str:
    if type(key) is not str:
        raise NotExact(type(key).__name__)
    return key


def _list_of(encode: Encoder) -> Encoder:
    """Converts each item of a list (either way: the same shape going out and coming in)."""

    def encode_list(value: Any) -> list[Any]:
        if type(value) is not list:
            raise NotExact(type(value).__name__)
        return [None if item is None else encode(item) for item in value]

    return encode_list


def _dict_of(encode: Encoder) -> Encoder:
    """Converts each value of a dict with text keys (either way, like _list_of)."""

    def encode_dict(value: Any) -> dict[str, Any]:
        if type(value) is not dict:
            raise NotExact(type(value).__name__)
        return {_key(key): None if item is None else encode(item) for key, item in value.items()}

    return encode_dict


SIMPLE_ENCODERS: dict[str, Encoder] = {
    "str": _text,
    "bool": _exactly(bool),
    "int": _exactly(int),
    "float": _exactly(float),
    "iso-8601": _iso_8601,
    "object": _object,
}


# -- Reading: the Bot Connector's JSON into models, as msrest's Deserializer reads it ------------

M = TypeVar("M")
Decoder = Callable[[Any], Any]

# Declared types msrest reads with a converter of its own (and two it cannot read at all).
MSREST_ONLY_READERS = MSREST_ONLY_TYPES | {"[]", "{}"}
# Free-form values nested deeper than this are left to msrest (which, deep enough, gives up).
MAX_DEPTH = 32
# The timestamps the Bot Connector and Teams send; isodate (msrest's parser) reads many more forms.
MOMENT = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?"
    r"(?:(Z)|(([+-])([0-9]{2}):([0-9]{2})))?"
)


def activity_from_json(payload: Any) -> Activity | None:
    """Gives the Activity msrest makes of an inbound payload, or None where only msrest knows."""
    return model_from_json(Activity, payload)


def model_from_json(model: type[M], payload: Any) -> M | None:
    """Gives the model msrest's deserialize makes of JSON, or None where only msrest knows."""
    root: Any = model
    try:
        made: M = _readers(root).model(root.__name__)(payload)
    except (NotExact, AttributeError, TypeError, ValueError, OverflowError, RecursionError):
        return None
    return made


@functools.cache
def _readers(root: Any) -> "_Readers":
    return _Readers(root)


class _Readers:
    """A reader per declared type, resolving model names as msrest's Deserializer for root does."""

    def __init__(self, root: Any) -> None:
        # Model.deserialize hands its Deserializer every class in the root model's package.
        self._known: dict[str, Any] = root._infer_class_models()
        self._models: dict[str, Decoder] = {}
        self._making: set[str] = set()

    def model(self, name: str) -> Decoder:
        """The reader for a model named in a declared type."""
        reader = self._models.get(name)
        if reader is not None:
            return reader
        kind = self._known.get(name)
        # A model that contains itself could nest deeper than msrest can recurse: msrest's alone.
        if name in self._making or not _read_plainly(kind):
            return _not_exact
        self._making.add(name)
        try:
            reader = _ModelReader(kind, self)
        finally:
            self._making.discard(name)
        self._models[name] = reader
        return reader

    def decoder(self, declared: Any) -> Decoder:
        """The reader for a declared type, picked in the order msrest's deserialize_data picks."""
        if not isinstance(declared, str) or not declared or declared in MSREST_ONLY_READERS:
            return _not_exact
        simple = SIMPLE_READERS.get(declared)
        if simple is not None:
            return simple
        ends = declared[0] + declared[-1]
        if ends == "[]":
            return _list_of(self.decoder(declared[1:-1]))
        if ends == "{}":
            # msrest also reads a list of {key, value} pairs as a dict: that is left to it.
            return _dict_of(self.decoder(declared[1:-1]))
        return self.model(declared)


def _read_plainly(kind: Any) -> bool:
    """Says whether msrest reads a class attribute by attribute, with nothing of its own added."""
    if not isinstance(kind, type) or not issubclass(kind, Model) or issubclass(kind, Enum):
        return False
    model: Any = kind
    return (
        # Subtypes are picked by a discriminator, which msrest pops from the payload.
        not model.__dict__.get("_subtype_map")
        # Read-only and constant attributes are left out of the constructor.
        and not getattr(model, "_validation", None)
        and not hasattr(model, "_xml_map")
        and all(_plain_key(attribute, d["key"]) for attribute, d in model._attribute_map.items())
    )


def _plain_key(attribute: str, key: Any) -> bool:
    # A dotted key is a flattened path; additional_properties is msrest's own.
    plain = isinstance(key, str) and key and "." not in key and "\\" not in key
    return bool(plain) and attribute != "additional_properties"


class _ModelReader:
    """Reads one model from a JSON object, as msrest's Deserializer._deserialize does."""

    def __init__(self, kind: Any, readers: _Readers) -> None:
        self._kind = kind
        attributes = kind._attribute_map.items()
        self._fields = tuple(
            (attribute, d["key"], readers.decoder(d["type"])) for attribute, d in attributes
        )
        self._keys = frozenset(d["key"] for d in kind._attribute_map.values())

    def __call__(self, data: Any) -> Any:
        if type(data) is not dict:
            raise NotExact(type(data).__name__)
        values = {}
        for attribute, key, read in self._fields:
            value = data.get(key)
            values[attribute] = None if value is None else read(value)
        # Made through the constructor with every attribute, as msrest makes it.
        made = self._kind(**values)
        # Keys the model does not know are kept as they came, in the order msrest's set gives.
        unknown = set(data.keys()) - self._keys
        if unknown:
            made.additional_properties = {key: data[key] for key in unknown}
        return made


def _read_free(value: Any, depth: int = 0) -> Any:
    """A free-form value (channel data, a card's submit), copied as msrest copies JSON."""
    kind = type(value)
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    if depth >= MAX_DEPTH:
        raise NotExact("nested too deep")
    if kind is dict:
        return {key: _read_free(item, depth + 1) for key, item in value.items()}
    if kind is list:
        return [_read_free(item, depth + 1) for item in value]
    raise NotExact(kind.__name__)


def _read_moment(value: Any) -> datetime.datetime:
    """A timestamp, as msrest's deserialize_iso (through isodate) reads the forms it matches."""
    if type(value) is not str:
        raise NotExact(type(value).__name__)
    match = MOMENT.fullmatch(value)
    if match is None:
        raise NotExact("not a plain ISO 8601 timestamp")
    year, month, day, hour, minute, second, fraction, utc, zone, sign, zone_hours, zone_minutes = (
        match.groups()
    )
    if utc is not None:
        tzinfo = build_tzinfo("Z")
    elif zone is not None:
        tzinfo = build_tzinfo(zone, sign, int(zone_hours), int(zone_minutes))
    else:
        tzinfo = None
    # msrest cuts the fraction to six digits; isodate then reads it exactly.
    microsecond = int(fraction[:6].ljust(6, "0")) if fraction else 0
    # Where isodate reads month 00 as January, datetime refuses it (ValueError): msrest's alone.
    moment = datetime.datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second), microsecond, tzinfo
    )
    # msrest refuses an offset of a day or more, and a UTC time outside years 1 to 9999.
    moment.utctimetuple()
    return moment


SIMPLE_READERS: dict[str, Decoder] = {
    "str": _exactly(str),
    "bool": _exactly(bool),
    "int": _exactly(int),
    "float": _exactly(float),
    "iso-8601": _read_moment,
    "object": _read_free,
}
