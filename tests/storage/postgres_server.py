"""The PostgreSQL server tests use: DATABASE_URL, or the local one; a missing server fails in CI."""

import functools
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from psycopg import sql

from storage.postgres import describe_server, first_line

LOCAL_URLS = (
    "postgresql://root@127.0.0.1:5432/test",
    "postgresql://postgres@127.0.0.1:5432/test",
)


@functools.cache
def _reachable() -> tuple[str, str]:
    """The first server that answers, or why none did."""
    configured = os.environ.get("DATABASE_URL", "").strip()
    reasons = []
    for url in [configured] if configured else LOCAL_URLS:
        try:
            with psycopg.connect(url, connect_timeout=3) as connection:
                connection.execute("SELECT 1")
            return url, ""
        except psycopg.Error as error:
            reasons.append(f"{describe_server(url)}: {first_line(error)}")
    return "", "; ".join(reasons)


def database_url() -> str:
    """The server's URL; skips the test when there is none, but fails it in CI (CI=true)."""
    url, reason = _reachable()
    if url:
        return url
    message = f"PostgreSQL is not reachable ({reason})"
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"{message}: CI runs the PostgreSQL tests, so it must be running")
    pytest.skip(message)


@contextmanager
def scratch_schema() -> Iterator[tuple[str, str]]:
    """A fresh schema name on the test server, dropped with everything in it afterwards."""
    url = database_url()
    schema = f"test_{uuid.uuid4().hex[:16]}"
    try:
        yield url, schema
    finally:
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
            )
