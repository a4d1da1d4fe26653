"""kill -9 at random moments never loses an acknowledged write or leaves an unreadable store."""

import asyncio
import os
import random
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from storage.engine import DATABASE_NAME, TEMP_PREFIX, TinyDBRecords

from .helpers import helper_command, helper_environment

KILLS = 60
COLLECTION = "crash"
PAIRS = "pairs"


@dataclass
class Acknowledged:
    """What the killed writers were told had been saved, and what was in flight at each kill."""

    present: dict[str, tuple[int, int]] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)
    pair: str | None = None
    in_flight: list[str] | None = None

    def follow(self, output: str) -> None:
        """Replays one writer's report; a half-written last line is ignored."""
        self.in_flight = None
        for line in output.splitlines(keepends=True):
            if not line.endswith("\n") or line == "ready\n":
                continue
            phase, *op = line.split()
            if phase == "begin":
                self.in_flight = op
                continue
            self.in_flight = None
            if op[0] == "put":
                self.present[op[1]] = (int(op[2]), int(op[3]))
            elif op[0] == "delete":
                del self.present[op[1]]
                self.deleted.add(op[1])
            else:
                self.pair = op[1]


async def check_store(folder: Path, seen: Acknowledged) -> None:
    """Opens the store as a restarted bot would and checks it against what was acknowledged."""
    records = TinyDBRecords(folder)
    try:
        in_flight = seen.in_flight or ["none", ""]
        keys = [*seen.present, *seen.deleted, in_flight[1]]
        stored = await records.get_many(COLLECTION, keys)
        for key, (n, pad) in list(seen.present.items()):
            if key not in stored and in_flight[:2] == ["delete", key]:
                del seen.present[key]
                seen.deleted.add(key)
                continue
            assert key in stored, f"acknowledged put of {key} was lost"
            assert (stored[key]["n"], len(stored[key]["pad"])) == (n, pad)
        assert not seen.deleted & stored.keys(), "an acknowledged delete came back"
        if in_flight[0] == "put" and in_flight[1] in stored:
            assert stored[in_flight[1]]["n"] == int(in_flight[2])
            seen.present[in_flight[1]] = (int(in_flight[2]), int(in_flight[3]))

        pairs = await records.get_many(PAIRS, ["a", "b"])
        observed = None
        if pairs:
            generations = {key: record["generation"] for key, record in pairs.items()}
            assert len(pairs) == 2 and len(set(generations.values())) == 1, (
                f"half of a two-key batch was saved: {generations}"
            )
            observed = generations["a"]
        allowed = {seen.pair, in_flight[1] if in_flight[0] == "pair" else seen.pair}
        assert observed in allowed, f"pair {observed} is neither of {allowed}"
        seen.pair = observed
    finally:
        records.close()


@pytest.mark.slow
def test_acknowledged_writes_survive_kill_9_at_random_moments(tmp_path: Path) -> None:
    folder = tmp_path / "store"
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    seen = Acknowledged()
    orphans_found = kills_in_flight = 0

    for kill in range(KILLS):
        writer = subprocess.Popen(
            helper_command("crash_writer.py", str(folder), f"k{kill}", str(seed + kill)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=helper_environment(),
        )
        assert writer.stdout is not None
        early = ""
        if kill % 4 == 0:
            time.sleep(rng.uniform(0.0, 0.12))  # may land while starting, opening or writing
        else:
            early = writer.stdout.readline()
            assert early == "ready\n", f"writer did not start (seed {seed})"
            time.sleep(rng.uniform(0.0, 0.06))
        writer.send_signal(signal.SIGKILL)
        output = writer.stdout.read()  # through the same buffer readline() filled
        assert writer.wait(timeout=30) == -signal.SIGKILL, writer.communicate()[1]

        seen.follow(early + output)
        kills_in_flight += seen.in_flight is not None
        orphans_found += sum(name.startswith(TEMP_PREFIX) for name in _listing(folder))
        asyncio.run(check_store(folder, seen))
        assert not any(name.startswith(TEMP_PREFIX) for name in _listing(folder))

    print(
        f"\n{KILLS} kills (seed {seed}): {kills_in_flight} with a write in flight, "
        f"{orphans_found} temp files left by a kill, {len(seen.present)} records kept, "
        f"{len(seen.deleted)} deleted"
    )
    assert len(seen.present) + len(seen.deleted) > KILLS
    assert (folder / DATABASE_NAME).exists()


def _listing(folder: Path) -> list[str]:
    return os.listdir(folder) if folder.exists() else []
