"""Writes to a store until it is killed, saying which writes were acknowledged.

Every line on stdout is `begin <op> <args>` before a write call and `ack <op> <args>` after it
returns; ops are `put <key> <n> <pad length>`, `delete <key>`, `pair <generation>` (one
batch that stores the same generation under two keys of one table) and `split <generation>` (one
write that stores it under key "a" in one table and key "b" in another, as a record and its
audit event are written). Only the engine is imported, not
botbuilder, so a process starts fast enough to be killed many times.

Arguments: folder, tag, seed, then optionally the journal size that starts a compaction (small,
so kills land during compactions too) and a compaction step to stop at for good, saying
`compacting <step>` when it gets there (so a test can kill the process at exactly that step).
"""

import asyncio
import itertools
import random
import sys
import threading

from storage.documents import TinyDBDocuments
from storage.engine import COMPACT_AFTER_BYTES, Step, TinyDBRecords
from storage.records import Batch

COLLECTION = "crash"
PAIRS = "pairs"


def say(*words: object) -> None:
    """Reports one line in one write, so a kill never leaves half a line that looks whole."""
    sys.stdout.write(" ".join(str(word) for word in words) + "\n")
    sys.stdout.flush()


def stop_at(hold: str) -> Step:
    """A compaction hook that reports each step and never returns from the one named hold."""

    def step(name: str) -> None:
        if name == hold:
            say("compacting", name)
            threading.Event().wait()

    return step


async def write_forever(
    folder: str, tag: str, seed: int, compact_after_bytes: int, hold: str
) -> None:
    """Puts, deletes and writes pairs in a random mix, forever."""
    records = TinyDBRecords(
        folder,
        compact_after_bytes=compact_after_bytes,
        on_compaction_step=stop_at(hold) if hold else None,
    )
    documents = TinyDBDocuments(records)
    rng = random.Random(seed)
    mine: list[str] = []
    say("ready")
    for n in itertools.count():
        roll = rng.random()
        if roll < 0.08:
            generation = f"{tag}-{n}"
            batch = Batch(puts={"a": {"generation": generation}, "b": {"generation": generation}})
            say("begin pair", generation)
            await records.transact(PAIRS, (), lambda _current, batch=batch: batch)
            say("ack pair", generation)
        elif roll < 0.16:
            generation = f"{tag}-{n}"
            say("begin split", generation)
            await records.write(
                {
                    "split": Batch(puts={"a": {"generation": generation}}),
                    "split_too": Batch(puts={"b": {"generation": generation}}),
                }
            )
            say("ack split", generation)
        elif mine and roll < 0.5:
            key = mine.pop(rng.randrange(len(mine)))
            say("begin delete", key)
            await documents.delete(collection=COLLECTION, key=key)
            say("ack delete", key)
        else:
            key, pad = f"{tag}-{n}", rng.randrange(100, 2000)
            say("begin put", key, n, pad)
            await documents.put(collection=COLLECTION, key=key, document={"n": n, "pad": "x" * pad})
            say("ack put", key, n, pad)
            mine.append(key)


if __name__ == "__main__":
    folder, tag, seed, *options = sys.argv[1:]
    compact_after = int(options[0]) if options else COMPACT_AFTER_BYTES
    asyncio.run(write_forever(folder, tag, int(seed), compact_after, "".join(options[1:2])))
