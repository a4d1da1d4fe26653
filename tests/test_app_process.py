"""`python app.py` as an operator runs it: refuses to start unsafely, serves, and owns its store."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage import open_embedded
from tests.conftest import make_settings, serve

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A bare environment: no credentials, no .env file, data in tmp_path."""
    return {
        "PATH": os.environ["PATH"],
        "SAFESESSION_DOTENV": str(tmp_path / "no.env"),
        "SAFESESSION_DATA": str(tmp_path / "data"),
        **extra,
    }


def start(tmp_path: Path, **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env=environment(tmp_path, **extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for_health(port: int, process: subprocess.Popen[str]) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                return int(response.status)
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the bot did not answer /healthz within 30 s")


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    port = free_port()
    process = start(tmp_path, SAFESESSION_LOCAL="1", PORT=str(port))
    yield process, port
    process.terminate()
    process.wait(timeout=10)


def test_no_credentials_and_no_local_switch_refuses_to_start(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env=environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "MicrosoftAppId, MicrosoftAppPassword" in done.stderr
    assert not (tmp_path / "data").exists()


def test_local_mode_serves_health_on_loopback_and_says_so_loudly(
    running: tuple[subprocess.Popen[str], int],
) -> None:
    process, port = running
    assert wait_for_health(port, process) == 200
    process.terminate()
    output, _ = process.communicate(timeout=10)
    assert "LOCAL MODE" in output and "authentication is OFF" in output


def test_a_second_process_on_the_same_store_is_refused(
    tmp_path: Path, running: tuple[subprocess.Popen[str], int]
) -> None:
    process, port = running
    wait_for_health(port, process)
    second = subprocess.run(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env=environment(tmp_path, SAFESESSION_LOCAL="1", PORT=str(free_port())),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode != 0
    assert "another SafeSession process" in second.stderr
    assert process.poll() is None


async def test_healthz_is_503_when_the_store_folder_is_gone(tmp_path: Path) -> None:
    folder = tmp_path / "store"
    stores = open_embedded(folder)
    served = await serve(make_settings(tmp_path), stores)
    try:
        shutil.rmtree(folder)
        async with served.session.get(served.url("/healthz")) as response:
            assert response.status == 503
            assert (await response.json())["status"] == "unavailable"
    finally:
        await served.session.close()
        await served.server.close()


def test_a_broken_template_override_stops_the_start_and_names_the_file(tmp_path: Path) -> None:
    overrides = tmp_path / "wording" / "text"
    overrides.mkdir(parents=True)
    (overrides / "cancelled.txt").write_text("Stopped {{ here\n")
    done = subprocess.run(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env=environment(
            tmp_path, SAFESESSION_LOCAL="1", SAFESESSION_TEMPLATES=str(tmp_path / "wording")
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "text/cancelled.txt line 1" in done.stderr and "Traceback" not in done.stderr
