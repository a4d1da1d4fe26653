"""kill -9 at random moments and at each step of a compaction never loses an acknowledged write."""

import asyncio
import json
import os
import random
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from storage.engine import DATABASE_NAME, TEMP_PREFIX, TinyDBRecords
from storage.journal import META_KEY, META_TABLE, journal_generations

from .helpers import helper_command, helper_environment

KILLS = 60
COLLECTION = "crash"
# Where each kind of two-record write keeps its "a" and its "b" (see crash_writer.py).
PAIR_TABLES = {"pair": ("pairs", "pairs"), "split": ("split", "split_too")}
# Small enough that the writers compact every few dozen writes, so kills land in compactions.
COMPACT_AFTER_BYTES = 4096


@dataclass
class Acknowledged:
    """What the killed writers were told had been saved, and what was in flight at each kill."""

    present: dict[str, tuple[int, int]] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)
    pairs: dict[str, str | None] = field(default_factory=lambda: dict.fromkeys(PAIR_TABLES))
    in_flight: list[str] | None = None

    def follow(self, output: str) -> None:
        """Replays one writer's report; a half-written last line is ignored."""
        self.in_flight = None
        for line in output.splitlines(keepends=True):
            if not line.endswith("\n") or not line.startswith(("begin ", "ack ")):
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
                self.pairs[op[0]] = op[1]


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

        for kind, (a_table, b_table) in PAIR_TABLES.items():
            pair = {
                **await records.get_many(a_table, ["a"]),
                **await records.get_many(b_table, ["b"]),
            }
            observed = None
            if pair:
                generations = {key: record["generation"] for key, record in pair.items()}
                assert len(pair) == 2 and len(set(generations.values())) == 1, (
                    f"half of a two-record {kind} write was saved: {generations}"
                )
                observed = generations["a"]
            last = seen.pairs[kind]
            allowed = {last, in_flight[1] if in_flight[0] == kind else last}
            assert observed in allowed, f"{kind} {observed} is neither of {allowed}"
            seen.pairs[kind] = observed
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
        writer = start_writer(folder, f"k{kill}", seed + kill)
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

    compactions = snapshot_generation(folder)
    print(
        f"\n{KILLS} kills (seed {seed}): {kills_in_flight} with a write in flight, "
        f"{orphans_found} snapshots half-written by a kill, {compactions} compactions, "
        f"{len(seen.present)} records kept, {len(seen.deleted)} deleted"
    )
    assert len(seen.present) + len(seen.deleted) > KILLS
    assert compactions > 0, "no compaction happened, so none was interrupted"
    assert (folder / DATABASE_NAME).exists()


@pytest.mark.slow
@pytest.mark.parametrize("step", ["started", "written", "installed"])
def test_a_kill_at_each_step_of_a_compaction_loses_nothing(tmp_path: Path, step: str) -> None:
    folder = tmp_path / "store"
    seen = Acknowledged()
    writer = start_writer(folder, "held", 7, hold=step)
    assert writer.stdout is not None
    output = []
    while (line := writer.stdout.readline()) != f"compacting {step}\n":
        assert line, f"the writer never reached {step}: {writer.communicate()[1]}"
        output.append(line)
    acks_during_compaction = 0
    while acks_during_compaction < 20:  # writes go on while the compaction is stuck
        output.append(writer.stdout.readline())
        acks_during_compaction += output[-1].startswith("ack ")
    writer.send_signal(signal.SIGKILL)
    output.append(writer.stdout.read())
    assert writer.wait(timeout=30) == -signal.SIGKILL

    left = _listing(folder)
    if step == "written":
        assert any(name.startswith(TEMP_PREFIX) for name in left), left
    if step == "installed":
        assert min(journal_generations(folder)) <= snapshot_generation(folder), left
    seen.follow("".join(output))
    asyncio.run(check_store(folder, seen))

    assert not any(name.startswith(TEMP_PREFIX) for name in _listing(folder))
    assert min(journal_generations(folder)) > snapshot_generation(folder)
    writer = start_writer(folder, "after", 8)
    assert writer.stdout is not None
    early = writer.stdout.readline()
    time.sleep(0.05)
    writer.send_signal(signal.SIGKILL)
    seen.follow(early + writer.stdout.read())
    writer.wait(timeout=30)
    asyncio.run(check_store(folder, seen))


def start_writer(folder: Path, tag: str, seed: int, hold: str = "") -> subprocess.Popen[str]:
    """Starts a crash writer that compacts often (and stops for good at step hold, if given)."""
    return subprocess.Popen(
        helper_command(
            "crash_writer.py", str(folder), tag, str(seed), str(COMPACT_AFTER_BYTES), hold
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=helper_environment(),
    )


def snapshot_generation(folder: Path) -> int:
    """The last journal generation the snapshot includes (how many compactions it has seen)."""
    tables = json.loads((folder / DATABASE_NAME).read_text())
    return int(tables[META_TABLE][META_KEY]["generation"])


def _listing(folder: Path) -> list[str]:
    return os.listdir(folder) if folder.exists() else []
