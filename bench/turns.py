"""Turn-path benchmark: SafeSession's full pre-session journey against the stock echo bot.

Both bots run as their own processes on loopback and reply to one stub Bot Connector; 50
simulated workers talk to each in turn, and the medians of 3 runs are compared in the same run.
Targets (issue 7): at least 3x the stock bot's turns per second, a p99 at most a third of its,
and no errors. An error is an answer other than 2xx, or a conversation that did not get all it
should: every echo from the stock bot, the end of the journey from ours (so a dropped or
rate-limited turn cannot pass as a fast one).
Writes bench/results/turns.json and bench/results/turns.png.

    python -m bench.turns [--workers 50] [--runs 3]
"""

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, TCPConnector, web

from bench.journey import crosses_midnight, pre_session_script

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# The bot's reply to the journey's last answer: the journey really ran to its end.
FINISHED = "the safe word is saved privately"
Replies = dict[str, list[str]]


async def stub_connector(replies: Replies) -> tuple[web.AppRunner, str]:
    """A Bot Connector on loopback that accepts every reply at once, keeping each one's text."""

    async def accept(request: web.Request) -> web.Response:
        reply = await request.json()
        replies.setdefault(request.match_info["conversation"], []).append(reply.get("text") or "")
        return web.json_response({"id": "1"})

    app = web.Application()
    app.router.add_post("/v3/conversations/{conversation}/activities", accept)
    app.router.add_post("/v3/conversations/{conversation}/activities/{reply}", accept)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}/"


def start_bot(kind: str, port: int, data: Path) -> subprocess.Popen[bytes]:
    """Starts one bot process: 'stock' (the echo sample) or 'safesession' (ours, local mode)."""
    if kind == "stock":
        command = [sys.executable, "-m", "bench.stock_echo_bot", str(port)]
        env = dict(os.environ)
    else:
        command = [sys.executable, "app.py"]
        env = {
            **os.environ,
            "SAFESESSION_LOCAL": "1",
            "PORT": str(port),
            "SAFESESSION_DATA": str(data),
            # The script answers faster than any person: the flood limit would drop its turns.
            "SAFESESSION_RATE_LIMIT_PER_MINUTE": "1000000",
            "SAFESESSION_RATE_LIMIT_BURST": "1000000",
            "SAFESESSION_ALLOW_FICTIONAL_NUMBERS": "1",
            "SAFESESSION_DOTENV": str(data / "none.env"),
        }
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


async def wait_ready(session: ClientSession, url: str, connector_url: str) -> None:
    probe = activity(connector_url, "probe", 0, "ready?", 0)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            async with session.post(url, json=probe) as response:
                if response.status < 500:
                    return
        except OSError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError("the bot did not start within 60 s")


def activity(connector_url: str, kind: str, worker: int, text: str, turn: int) -> dict[str, Any]:
    """One message as Teams sends it (with an id, so the replay guard does its work)."""
    return {
        "type": "message",
        "id": f"{kind}-{worker}-{turn}",
        "channelId": "msteams",
        "serviceUrl": connector_url,
        "from": {
            "id": f"29:{kind}-{worker}",
            "name": "Sam Worker",
            "aadObjectId": f"aad-{kind}-{worker}",
        },
        "recipient": {"id": "28:bot", "name": "SafeSession"},
        "conversation": {
            "id": f"a:{kind}-{worker}",
            "conversationType": "personal",
            "tenantId": "t",
        },
        "channelData": {"tenant": {"id": "t"}},
        "text": text,
    }


async def load(
    session: ClientSession, url: str, connector_url: str, kind: str, scripts: list[list[str]]
) -> dict[str, Any]:
    """Every simulated worker sends its script, one message after the bot answered the last."""
    latencies: list[float] = []
    errors = 0

    async def worker(number: int, script: list[str]) -> None:
        nonlocal errors
        for turn, text in enumerate(script):
            body = activity(connector_url, kind, number, text, turn)
            started = time.perf_counter()
            async with session.post(url, json=body) as response:
                await response.read()
                if response.status >= 300:
                    errors += 1
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker(n, script) for n, script in enumerate(scripts)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "turns": len(latencies),
        "seconds": round(elapsed, 3),
        "turns_per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies), 1),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 1),
        "errors": errors,
    }


def unfinished(kind: str, name: str, scripts: list[list[str]], replies: Replies) -> int:
    """Counts the simulated workers whose conversation did not get every answer it should:
    an echo for each message (stock), or the end of the journey (ours)."""
    missing = 0
    for number, script in enumerate(scripts):
        said = replies.get(f"a:{name}-{number}", [])
        if kind == "stock":
            done = said == [f"Echo: {text}" for text in script]
        else:
            done = any(FINISHED in text for text in said)
        missing += not done
    return missing


async def run_one(
    kind: str, scripts: list[list[str]], connector_url: str, replies: Replies, run: int
) -> dict[str, Any]:
    """Starts one bot, runs the load against it, and checks every conversation finished."""
    name = f"{kind}{run}"
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        bot = start_bot(kind, port, Path(folder))
        try:
            async with ClientSession(connector=TCPConnector(limit=0)) as session:
                url = f"http://127.0.0.1:{port}/api/messages"
                await wait_ready(session, url, connector_url)
                result = await load(session, url, connector_url, name, scripts)
        finally:
            bot.terminate()
            bot.wait(timeout=30)
    result["unfinished"] = unfinished(kind, name, scripts, replies)
    result["errors"] += result["unfinished"]
    return result


def median_of(results: list[dict[str, Any]], field: str) -> float:
    return float(statistics.median(result[field] for result in results))


async def main(workers: int, runs: int) -> dict[str, Any]:
    now = datetime.now(UTC)
    if crosses_midnight(now):
        raise SystemExit("run this before 23:00 UK time: the journey plans a session later today")
    ours = [pre_session_script(worker, now) for worker in range(workers)]
    stock = ours  # the echo bot is sent the very same messages
    replies: Replies = {}
    runner, connector_url = await stub_connector(replies)
    measured: dict[str, list[dict[str, Any]]] = {"stock": [], "safesession": []}
    try:
        for run in range(runs):
            for kind, scripts in (("stock", stock), ("safesession", ours)):
                result = await run_one(kind, scripts, connector_url, replies, run)
                measured[kind].append(result)
                print(f"run {run + 1} {kind:12} {result}", flush=True)
    finally:
        await runner.cleanup()
    summary = {
        kind: {
            field: median_of(results, field)
            for field in ("turns_per_second", "p50_ms", "p99_ms", "errors")
        }
        for kind, results in measured.items()
    }
    ratios = {
        "throughput_x": round(
            summary["safesession"]["turns_per_second"] / summary["stock"]["turns_per_second"], 2
        ),
        "p99_fraction": round(summary["safesession"]["p99_ms"] / summary["stock"]["p99_ms"], 3),
    }
    report = {
        "when": now.isoformat(),
        "machine": {"cores": os.cpu_count()},
        "workers": workers,
        "runs": runs,
        "turns_per_worker": len(ours[0]),
        "measured": measured,
        "medians": summary,
        "ratios": ratios,
        "targets": {
            "throughput_at_least_3x": ratios["throughput_x"] >= 3,
            "p99_at_most_a_third": ratios["p99_fraction"] <= 1 / 3,
            "zero_errors": summary["safesession"]["errors"] == 0,
        },
    }
    return report


def chart(report: dict[str, Any], path: Path, draw: Callable[..., Any] | None = None) -> None:
    """Draws throughput and p50/p99 latency side by side as a PNG (Pillow)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (720, 360), "white")
    pen = ImageDraw.Draw(image)
    medians = report["medians"]
    panels = [
        ("turns per second", "turns_per_second"),
        ("p50 latency (ms)", "p50_ms"),
        ("p99 latency (ms)", "p99_ms"),
    ]
    colours = {"stock": (150, 150, 150), "safesession": (40, 110, 200)}
    for index, (title, field) in enumerate(panels):
        left = 20 + index * 235
        pen.text((left, 10), title, fill="black")
        top = max(medians[kind][field] for kind in medians) or 1
        for bar, kind in enumerate(("stock", "safesession")):
            value = medians[kind][field]
            height = int(260 * value / top)
            x = left + 20 + bar * 90
            pen.rectangle([x, 320 - height, x + 60, 320], fill=colours[kind])
            pen.text((x, 322), kind, fill="black")
            pen.text((x, 305 - height), f"{value:g}", fill="black")
    image.save(path)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    outcome = asyncio.run(main(arguments.workers, arguments.runs))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "turns.json").write_text(json.dumps(outcome, indent=2) + "\n")
    chart(outcome, RESULTS / "turns.png")
    print(
        json.dumps(
            {
                "medians": outcome["medians"],
                "ratios": outcome["ratios"],
                "targets": outcome["targets"],
            },
            indent=2,
        )
    )
