"""Imports point one way: the domain never imports the SDK, the database or the web layer."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN_IN_DOMAIN = {
    "botbuilder",
    "botframework",
    "tinydb",
    "aiohttp",
    "jinja2",
    "msrest",
    "bot",
    "dialogs",
    "storage",
    "app",
}


def imported_roots(path: Path) -> set[str]:
    """The top-level package of every import in a file."""
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


DOMAIN_FILES = sorted((ROOT / "safeguarding").rglob("*.py"))


@pytest.mark.parametrize("path", DOMAIN_FILES, ids=lambda path: path.name)
def test_the_domain_imports_neither_sdk_nor_database(path: Path) -> None:
    assert imported_roots(path) & FORBIDDEN_IN_DOMAIN == set()


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    offender = tmp_path / "offender.py"
    offender.write_text("from botbuilder.core import TurnContext\nimport tinydb.table\n")
    assert imported_roots(offender) & FORBIDDEN_IN_DOMAIN == {"botbuilder", "tinydb"}


def test_the_domain_has_modules_to_check() -> None:
    assert len(DOMAIN_FILES) >= 2
