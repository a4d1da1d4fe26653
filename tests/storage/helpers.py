"""Runs the helper scripts beside these tests as separate processes."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def helper_command(script: str, *args: str) -> list[str]:
    """The command line that runs one of the helper scripts beside these tests."""
    return [sys.executable, str(HERE / script), *args]


def helper_environment() -> dict[str, str]:
    """The environment for a helper script: this interpreter, the repository importable."""
    return {**os.environ, "PYTHONPATH": str(ROOT)}
