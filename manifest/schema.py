"""Checks a manifest against Microsoft's Teams schema, vendored in manifest/schema/."""

import json
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft4Validator, Draft7Validator, FormatChecker, validators
from jsonschema.protocols import Validator

SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "MicrosoftTeams.schema.json"

# The schema says draft-04 yet uses `const` and `if`/`then`. Microsoft's validator (Ajv with
# ajv-draft-04) applies them; plain Draft4Validator would silently ignore them.
_TeamsValidator = validators.extend(
    Draft4Validator,
    validators={
        keyword: Draft7Validator.VALIDATORS[keyword]
        for keyword in ("const", "contains", "propertyNames", "if")
    },
)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*$")


def _format_checker() -> FormatChecker:
    """The formats Microsoft's validator checks: uri, email and regex."""
    checker = FormatChecker(formats=("email", "regex"))

    @checker.checks("uri", raises=ValueError)
    def is_uri(value: object) -> bool:
        if not isinstance(value, str):
            return True
        return bool(_SCHEME.match(urlsplit(value).scheme)) and not re.search(r"\s", value)

    return checker


@cache
def load_schema(path: Path = SCHEMA_PATH) -> dict[str, Any]:
    """Reads the vendored schema once."""
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


def schema_errors(
    manifest: Mapping[str, Any], schema: Mapping[str, Any] | None = None
) -> list[str]:
    """Lists every way the manifest breaks the schema as 'where: what'; empty when it is valid."""
    validator: Validator = _TeamsValidator(
        schema if schema is not None else load_schema(), format_checker=_format_checker()
    )
    return sorted(
        f"{error.json_path}: {error.message}" for error in validator.iter_errors(dict(manifest))
    )
