"""The store benchmark: durable writes as the store grows, event-loop stalls, start-up and memory.

`python -m bench.store` (or `make bench`) measures, in one run, each figure as the median of 3 runs:

- one durable write (`documents.put`, fsynced before it returns) with 1,000 / 10,000 / 50,000
  records already stored, for the embedded store (TinyDB over the journal), stock TinyDB (its
  default JSONStorage rewrites the whole file and does not even fsync: for reference) and SQLite
  (WAL, synchronous=FULL, one INSERT per transaction);
- PostgreSQL JSONB puts through our adapter, with 1 and with 50 concurrent writers;
- the longest the event loop went without running (a 1 ms ticker's lateness) while store calls
  and a compaction ran against 50,000 records, and how long callers waited meanwhile;
- start-up (opening 50,000 records, snapshot plus journal) and the peak memory of that process.

It prints a table and writes bench/results/store.json. Records are synthetic: installation
records with a conversation reference, about 500 bytes of JSON each.
"""

import argparse
import asyncio
import json
import os
import platform
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tinydb import TinyDB

from storage import open_embedded, postgres_stores
from storage.engine import TinyDBRecords
from storage.records import Batch, Plan, Record

RESULTS = Path(__file__).resolve().parent / "results" / "store.json"
ROOT = Path(__file__).resolve().parent.parent
COLLECTION = "installations"
LOCAL_POSTGRES = (
    "postgresql://root@127.0.0.1:5432/test",
    "postgresql://postgres@127.0.0.1:5432/test",
)
TARGETS = {"write_50k_vs_1k": 2.0, "write_50k_vs_sqlite": 3.0, "stall_ms": 20.0, "rss_mb": 300.0}


def synthetic(n: int) -> Record:
    """A made-up installation record, like the ones the bot keeps for proactive messages."""
    return {
        "conversation_id": f"a:personal-{n:06d}",
        "scope": "personal" if n % 10 else "team",
        "installed_at": "2026-11-26T09:00:00+00:00",
        "reference": {
            "activity_id": f"f:install-{n:06d}",
            "user": {"id": f"29:worker-{n:06d}", "name": "Sam Worker", "aad_object_id": f"aad-{n}"},
            "bot": {"id": "28:safesession-bot", "name": "SafeSession"},
            "conversation": {
                "id": f"a:personal-{n:06d}",
                "conversation_type": "personal",
                "tenant_id": "00000000-0000-4000-8000-00000000aaaa",
            },
            "channel_id": "msteams",
            "locale": "en-GB",
            "service_url": "https://smba.trafficmanager.net/uk/",
        },
        "notes": "synthetic " * 8,
    }


def storing(records: dict[str, Record]) -> Plan:
    """A plan that stores records whatever it sees."""
    return lambda _current: Batch(puts=records)


def median_of_runs(samples: Sequence[float]) -> float:
    """The median, in milliseconds, of per-run medians given in seconds."""
    return round(statistics.median(samples) * 1000, 3)


async def fill_embedded(folder: Path, count: int) -> None:
    """Stores count records in batches of 1,000, then folds them into the snapshot."""
    records = TinyDBRecords(folder)
    try:
        for start in range(0, count, 1000):
            batch = {f"k{n}": synthetic(n) for n in range(start, min(count, start + 1000))}
            await records.transact(COLLECTION, (), storing(batch))
        await records.compact()
    finally:
        records.close()


async def time_embedded_writes(folder: Path, writes: int, runs: int) -> list[float]:
    """Per run, the median time of one durable documents.put of a new record."""
    stores = open_embedded(folder)
    medians = []
    try:
        for run in range(runs):
            times = []
            for n in range(writes):
                document = synthetic(n)
                started = time.perf_counter()
                await stores.documents.put(
                    collection=COLLECTION, key=f"r{run}-{n}", document=document
                )
                times.append(time.perf_counter() - started)
            medians.append(statistics.median(times))
    finally:
        await stores.aclose()
    return medians


def time_tinydb_default(folder: Path, count: int, writes: int, runs: int) -> list[float]:
    """Per run, the median time of one insert into stock TinyDB holding count records."""
    database = TinyDB(folder / "stock.json")
    table = database.table(COLLECTION)
    table.insert_multiple(synthetic(n) for n in range(count))
    medians = []
    for _run in range(runs):
        times = []
        for n in range(writes):
            document = synthetic(n)
            started = time.perf_counter()
            table.insert(document)
            times.append(time.perf_counter() - started)
        medians.append(statistics.median(times))
    database.close()
    return medians


def time_sqlite(folder: Path, count: int, writes: int, runs: int) -> list[float]:
    """Per run, the median time of one INSERT (its own transaction) in SQLite WAL, FULL sync."""
    database = sqlite3.connect(folder / "bench.sqlite", isolation_level=None)
    database.execute("PRAGMA journal_mode=WAL")
    database.execute("PRAGMA synchronous=FULL")
    database.execute("CREATE TABLE docs (key TEXT PRIMARY KEY, doc TEXT NOT NULL)")
    database.execute("BEGIN")
    database.executemany(
        "INSERT INTO docs VALUES (?, ?)",
        ((f"k{n}", json.dumps(synthetic(n))) for n in range(count)),
    )
    database.execute("COMMIT")
    medians = []
    for run in range(runs):
        times = []
        for n in range(writes):
            document = synthetic(n)
            started = time.perf_counter()
            database.execute(
                "INSERT INTO docs VALUES (?, ?)", (f"r{run}-{n}", json.dumps(document))
            )
            times.append(time.perf_counter() - started)
        medians.append(statistics.median(times))
    database.close()
    return medians


async def measure_stalls(folder: Path, seconds: float) -> dict[str, float]:
    """Runs store calls and a forced compaction on a big store while a 1 ms ticker watches."""
    stores = open_embedded(folder)
    records = stores.backend
    assert isinstance(records, TinyDBRecords)
    lateness: list[float] = []
    waits: list[float] = []
    on_loop: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        while not stop.is_set():
            before = time.perf_counter()
            await asyncio.sleep(0.001)
            lateness.append(time.perf_counter() - before - 0.001)

    async def timed(call: Awaitable[Any]) -> None:
        # thread_time counts only this (the loop's) thread's CPU: what the call itself costs
        # the loop, whatever other processes on the machine are doing.
        started, cpu = time.perf_counter(), time.thread_time()
        await call
        on_loop.append(time.thread_time() - cpu)
        waits.append(time.perf_counter() - started)

    async def compact() -> float:
        began = time.perf_counter()
        await records.compact()
        return time.perf_counter() - began

    watcher = asyncio.create_task(ticker())
    compaction_ms = 0.0
    calls = 0
    deadline = time.perf_counter() + seconds
    compacted_at = seconds / 3
    compaction: asyncio.Task[float] | None = None
    started = time.perf_counter()
    try:
        while time.perf_counter() < deadline or (compaction and not compaction.done()):
            n = calls
            await timed(
                stores.documents.put(collection=COLLECTION, key=f"s{n}", document=synthetic(n))
            )
            await timed(stores.documents.get(collection=COLLECTION, key=f"k{n}"))
            await timed(stores.bot_storage.write({f"conversation/{n % 50}": {"turn": n}}))
            await timed(stores.bot_storage.read([f"conversation/{n % 50}"]))
            if n % 25 == 0:  # a scan of all 50,000 records, off the loop
                await timed(stores.documents.find(collection=COLLECTION, where={"scope": "team"}))
            calls += 5 if n % 25 == 0 else 4
            if compaction is None and time.perf_counter() - started > compacted_at:
                compaction = asyncio.create_task(compact())
        if compaction is not None:
            compaction_ms = await compaction * 1000
    finally:
        stop.set()
        await watcher
        await stores.aclose()
    lateness.sort()
    waits.sort()
    on_loop.sort()
    return {
        "max_loop_cpu_per_call_ms": round(on_loop[-1] * 1000, 2),
        "max_stall_ms": round(lateness[-1] * 1000, 2),
        "p99_stall_ms": round(lateness[int(len(lateness) * 0.99)] * 1000, 2),
        "store_calls": calls,
        "max_call_ms": round(waits[-1] * 1000, 2),
        "p99_call_ms": round(waits[int(len(waits) * 0.99)] * 1000, 2),
        "compaction_ms": round(compaction_ms, 1),
    }


def measure_startup(folder: Path, runs: int) -> dict[str, float]:
    """Opens the store in fresh processes; the median open time and the largest peak memory."""
    results = []
    for _run in range(runs):
        done = subprocess.run(
            [sys.executable, "-m", "bench.store", "--open-only", str(folder)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        results.append(json.loads(done.stdout))
    return {
        "open_s": round(statistics.median(r["open_s"] for r in results), 3),
        "peak_rss_mb": round(max(r["peak_rss_mb"] for r in results), 1),
        "journal_bytes": results[0]["journal_bytes"],
    }


async def open_only(folder: Path) -> dict[str, float]:
    """In a fresh process: opens the store, writes 100 records, compacts; says time and memory."""
    started = time.perf_counter()
    records = TinyDBRecords(folder)
    opened = time.perf_counter() - started
    journal = records.journal_bytes
    for n in range(100):
        await records.transact(COLLECTION, (), storing({f"o{n}": synthetic(n)}))
    await records.compact()
    records.close()
    return {"open_s": opened, "peak_rss_mb": peak_rss_mb(), "journal_bytes": journal}


def peak_rss_mb() -> float:
    """Reads this process's peak resident memory, in MB."""
    # VmHWM, not getrusage: Linux carries a parent's maxrss into its child across fork and exec.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def find_postgres() -> tuple[str, str]:
    """DATABASE_URL, or the local server; with the reason when there is none."""
    import psycopg

    configured = os.environ.get("DATABASE_URL", "").strip()
    reasons = []
    for url in [configured] if configured else LOCAL_POSTGRES:
        try:
            with psycopg.connect(url, connect_timeout=3) as connection:
                connection.execute("SELECT 1")
            return url, ""
        except psycopg.Error as error:
            reasons.append(type(error).__name__)
    return "", "PostgreSQL not reachable: " + ", ".join(reasons)


async def measure_postgres(url: str, runs: int, writes: int) -> dict[str, float]:
    """Puts per second through our adapter with 1 and with 50 writers, in a scratch schema."""
    import psycopg
    from psycopg import sql

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    stores = postgres_stores(url, schema=schema, max_connections=50)
    await stores.open()
    try:
        single, many, latency = [], [], []
        for run in range(runs):
            times = []
            started = time.perf_counter()
            for n in range(writes):
                begun = time.perf_counter()
                await stores.documents.put(
                    collection=COLLECTION, key=f"one-{run}-{n}", document=synthetic(n)
                )
                times.append(time.perf_counter() - begun)
            single.append(writes / (time.perf_counter() - started))
            latency.append(statistics.median(times))

            async def writer(w: int, run: int = run) -> None:
                for n in range(writes // 10):
                    await stores.documents.put(
                        collection=COLLECTION, key=f"many-{run}-{w}-{n}", document=synthetic(n)
                    )

            started = time.perf_counter()
            await asyncio.gather(*(writer(w) for w in range(50)))
            many.append(50 * (writes // 10) / (time.perf_counter() - started))
    finally:
        await stores.aclose()
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as connection:
            await connection.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
            )
    return {
        "puts_per_s_1_writer": round(statistics.median(single)),
        "puts_per_s_50_writers": round(statistics.median(many)),
        "put_ms_1_writer": median_of_runs(latency),
    }


async def run_all(
    sizes: Sequence[int], runs: int, writes: int, stall_seconds: float
) -> dict[str, Any]:
    """Measures everything in one run, in one scratch folder."""
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_before": os.getloadavg()[0],
        },
        "runs": runs,
        "record_bytes": len(json.dumps(synthetic(0))),
        "write_ms": {"journal": {}, "tinydb_default": {}, "sqlite_wal_full": {}},
    }
    with tempfile.TemporaryDirectory(prefix="safesession-bench-") as scratch:
        root = Path(scratch)
        for size in sizes:
            say(f"{size:,} records: embedded store")
            folder = root / f"journal-{size}"
            await fill_embedded(folder, size)
            results["write_ms"]["journal"][str(size)] = median_of_runs(
                await time_embedded_writes(folder, writes, runs)
            )
            say(f"{size:,} records: stock TinyDB")
            stock = root / f"stock-{size}"
            stock.mkdir()
            stock_writes = max(3, writes * 1000 // max(size, 1000) // 4)
            results["write_ms"]["tinydb_default"][str(size)] = median_of_runs(
                time_tinydb_default(stock, size, min(stock_writes, writes), runs)
            )
            say(f"{size:,} records: SQLite")
            lite = root / f"sqlite-{size}"
            lite.mkdir()
            results["write_ms"]["sqlite_wal_full"][str(size)] = median_of_runs(
                time_sqlite(lite, size, writes, runs)
            )
        biggest = root / f"journal-{sizes[-1]}"
        say(f"event-loop stalls at {sizes[-1]:,} records")
        rounds = [await measure_stalls(biggest, stall_seconds) for _run in range(runs)]
        results["stalls"] = {
            name: statistics.median(one[name] for one in rounds) for name in rounds[0]
        }
        results["stalls"]["worst_stall_ms"] = max(one["max_stall_ms"] for one in rounds)
        say(f"start-up and memory at {sizes[-1]:,} records")
        results["startup"] = measure_startup(biggest, runs)
    url, reason = find_postgres()
    if url:
        say("PostgreSQL")
        results["postgres"] = await measure_postgres(url, runs, writes * 5)
    else:
        results["postgres"] = {"skipped": reason}
    results["machine"]["load_average_after"] = os.getloadavg()[0]
    results["targets"] = check_targets(results, sizes)
    return results


def check_targets(results: dict[str, Any], sizes: Sequence[int]) -> dict[str, Any]:
    """Compares the figures with the issue's targets."""
    writes = results["write_ms"]
    small, big = str(sizes[0]), str(sizes[-1])
    figures = {
        "write_50k_vs_1k": writes["journal"][big] / writes["journal"][small],
        "write_50k_vs_sqlite": writes["journal"][big] / writes["sqlite_wal_full"][big],
        "stall_ms": results["stalls"]["max_stall_ms"],
        "rss_mb": results["startup"]["peak_rss_mb"],
    }
    return {
        name: {"value": round(value, 2), "limit": TARGETS[name], "met": value <= TARGETS[name]}
        for name, value in figures.items()
    }


def table(results: dict[str, Any]) -> str:
    """The results as a plain-text table."""
    writes = results["write_ms"]
    sizes = list(writes["journal"])
    machine = results["machine"]
    lines = [
        f"store benchmark, {results['when']}, {machine['cpus']} CPUs (load average "
        f"{machine['load_average_before']:.1f} before, {machine['load_average_after']:.1f} after), "
        f"medians of {results['runs']} runs, {results['record_bytes']}-byte records",
        "",
        "one durable write (ms)    " + "".join(f"{int(s):>12,}" for s in sizes),
    ]
    names = {
        "journal": "embedded (journal)",
        "tinydb_default": "stock TinyDB (no fsync)",
        "sqlite_wal_full": "SQLite WAL FULL",
    }
    for key, name in names.items():
        lines.append(f"{name:<26}" + "".join(f"{writes[key][s]:>12.3f}" for s in sizes))
    stalls, startup, postgres = results["stalls"], results["startup"], results["postgres"]
    lines += [
        "",
        f"at {int(sizes[-1]):,} records: longest event-loop stall {stalls['max_stall_ms']} ms "
        f"(p99 {stalls['p99_stall_ms']} ms, worst of {results['runs']} runs "
        f"{stalls['worst_stall_ms']} ms) over {stalls['store_calls']:.0f} store calls and a "
        f"{stalls['compaction_ms']} ms compaction; slowest call {stalls['max_call_ms']} ms, "
        f"most loop-thread CPU in one call {stalls['max_loop_cpu_per_call_ms']} ms",
        f"start-up {startup['open_s']} s (journal {startup['journal_bytes']:,} bytes), "
        f"peak memory {startup['peak_rss_mb']} MB",
    ]
    if "skipped" in postgres:
        lines.append(f"PostgreSQL: {postgres['skipped']}")
    else:
        lines.append(
            f"PostgreSQL JSONB puts: {postgres['puts_per_s_1_writer']:,}/s with 1 writer "
            f"({postgres['put_ms_1_writer']} ms each), "
            f"{postgres['puts_per_s_50_writers']:,}/s with 50"
        )
    lines += ["", "targets:"]
    for name, target in results["targets"].items():
        verdict = "met" if target["met"] else "MISSED"
        lines.append(f"  {name:<22} {target['value']:>8} (limit {target['limit']}) {verdict}")
    return "\n".join(lines)


def say(text: str) -> None:
    """Shows progress on stderr."""
    print(f"bench: {text}", file=sys.stderr, flush=True)


def write_results(results: dict[str, Any], path: Path) -> None:
    """Writes the results atomically, so a cut-short run never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(".json.tmp")
    temp.write_text(json.dumps(results, indent=2) + "\n")
    os.replace(temp, path)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the benchmark, prints the table and writes the JSON results."""
    parser = argparse.ArgumentParser(prog="python -m bench.store")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the bench runs")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--open-only", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.open_only:
        print(json.dumps(asyncio.run(open_only(options.open_only))))
        return 0
    if options.quick:
        results = asyncio.run(run_all((100, 200, 500), runs=1, writes=5, stall_seconds=0.3))
    else:
        results = asyncio.run(run_all((1_000, 10_000, 50_000), runs=3, writes=200, stall_seconds=4))
    write_results(results, options.out)
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
