"""One process per store folder: a second process is refused clearly, until the first is gone."""

import subprocess
from pathlib import Path

import pytest

from safeguarding.ports import StoreLocked
from storage import open_embedded

from .helpers import helper_command, helper_environment


def start_holder(folder: Path) -> subprocess.Popen[str]:
    """Starts another process that opens folder and holds it until its stdin closes."""
    holder = subprocess.Popen(
        helper_command("hold_store.py", str(folder)),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=helper_environment(),
    )
    assert holder.stdout is not None
    line = holder.stdout.readline()
    if line != "held\n":
        holder.kill()
        raise AssertionError(f"the holder did not open the store: {holder.communicate()[1]}")
    return holder


@pytest.mark.slow
def test_a_second_process_is_refused_until_the_holder_exits(tmp_path: Path) -> None:
    folder = tmp_path / "store"
    holder = start_holder(folder)
    try:
        with pytest.raises(StoreLocked) as refused:
            open_embedded(folder)
        message = str(refused.value)
        assert "in use by another SafeSession process" in message
        assert str(folder) in message and f"(pid {holder.pid})" in message

        assert holder.stdin is not None
        holder.stdin.close()
        assert holder.wait(timeout=30) == 0
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()

    with open_embedded(folder) as stores:
        assert stores.documents is not None


@pytest.mark.slow
def test_a_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    folder = tmp_path / "store"
    holder = start_holder(folder)
    holder.kill()
    holder.communicate(timeout=30)

    with open_embedded(folder) as stores:
        assert stores.documents is not None
