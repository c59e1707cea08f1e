"""WebSocket fan-out: one change delivered to 100 and 1,000 clients of one daphne process.

    .venv/bin/python bench/ws_bench.py                       # in-memory channel layer
    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/ws_bench.py

For each client count it connects that many project sockets, makes a series of ticket moves
through the API, and prints the delivery latency (from the request being sent to each
client's receipt of board.card_moved) at p50/p99, plus the server's memory holding them.
Uses the data prepared by http_bench.py (run that first, or this runs its setup).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import Server, bench_env, forget_redis_state, machine
from http_bench import prepare

WAVE = 50  # sockets opened at once (waves of 100 got resets from daphne on PostgreSQL)


async def fan_out(
    server: Server, data: dict, clients: int, changes: int, profile: str = "", api_base: str = ""
) -> tuple[list[float], float, float]:
    """Sockets on `server`; the changes go through `api_base` (another process) when given."""
    slug = data["TINY"]["slug"]
    key = data["key"]
    todo, doing = data["TINY"]["columns"][1], data["TINY"]["columns"][2]
    ticket_id = data["movable"][0]
    ws_url = f"{server.base}/api/v1/ws/{slug}?api_key={key}"
    latencies: list[float] = []
    sent_at: dict[int, float] = {}
    received = asyncio.Event()
    counts: dict[int, int] = {}

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, headers={"Origin": server.base}) as session:
        sockets = []
        for start in range(0, clients, WAVE):  # connect in waves, as browsers would
            batch = await asyncio.gather(
                *(session.ws_connect(ws_url, heartbeat=None) for _ in range(start, min(clients, start + WAVE)))
            )
            sockets.extend(batch)

        async def subscribed(ws: aiohttp.ClientWebSocketResponse) -> None:
            # The server accepts first, then authenticates and joins the project group, then
            # sends presence.state: only from then on does the socket get the project's events.
            while True:
                message = await ws.receive()
                if message.type != aiohttp.WSMsgType.TEXT:
                    raise RuntimeError(f"socket closed before subscribing: {message}")
                if '"presence.state"' in message.data:
                    return

        started = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(subscribed(ws) for ws in sockets)), timeout=120)
        print(f"  {clients} sockets connected and subscribed in {time.perf_counter() - started:.1f}s")
        await asyncio.sleep(1.0)  # let presence traffic settle
        rss_connected = server.rss_mb()

        async def reader(ws: aiohttp.ClientWebSocketResponse) -> None:
            async for message in ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    break
                # The clock stops on receipt; the client shares the machine with the server, so
                # it does as little as it can per message (no JSON parsing of other events).
                arrived = time.perf_counter()
                if '"board.card_moved"' not in message.data:
                    continue
                round_id = current_round[0]
                if round_id in sent_at:
                    latencies.append((arrived - sent_at[round_id]) * 1000)
                    counts[round_id] = counts.get(round_id, 0) + 1
                    if counts[round_id] >= clients:
                        received.set()

        current_round = [0]
        readers = [asyncio.create_task(reader(ws)) for ws in sockets]
        spy = None
        if profile:  # sample the server while it fans out (pip install py-spy)
            assert server.process is not None
            command = ["py-spy", "record", "--format", "raw", "--rate", "200", "-o", profile]
            spy = subprocess.Popen(
                [*command, "--pid", str(server.process.pid)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            await asyncio.sleep(1.0)
        async with aiohttp.ClientSession(api_base or server.base, headers={"X-API-Key": key}) as api:
            for round_id in range(changes + 1):  # round 0 warms the server's code paths up, unmeasured
                received.clear()
                current_round[0] = round_id
                target = doing if round_id % 2 else todo
                if round_id:
                    sent_at[round_id] = time.perf_counter()
                async with api.patch(
                    f"/api/v1/projects/{slug}/cards/{ticket_id}/move",
                    json={"column_id": target, "index": 0, "force": True},
                ) as response:
                    await response.read()
                if not round_id:
                    await asyncio.sleep(1.0)
                    continue
                try:
                    await asyncio.wait_for(received.wait(), timeout=10)
                except TimeoutError:
                    print(f"  round {round_id}: only {counts.get(round_id, 0)}/{clients} clients got the event")
        rss_after = server.rss_mb()
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=30)
        for task in readers:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    return latencies, rss_connected, rss_after


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, nargs="*", default=[1, 100, 1000], help="1 is the baseline")
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--profile", default="", help="py-spy the server during the changes into PROFILE.<clients>.txt")
    parser.add_argument(
        "--two-processes",
        action="store_true",
        help="sockets on one daphne, changes through a second one (needs REDIS_URL: the events cross Redis)",
    )
    args = parser.parse_args()
    env = bench_env()
    if args.two_processes and not env.get("REDIS_URL"):
        parser.error("--two-processes needs REDIS_URL: without Redis the processes share nothing")
    forget_redis_state(env)
    data = prepare(env)
    print(f"machine: {machine()}")
    print(f"channel layer: {'redis' if env.get('REDIS_URL') else 'in-memory'}")
    if args.two_processes:
        print("sockets on process A, changes through process B")
    print(
        f"{'clients':>8} {'deliveries':>10} {'p50 ms':>8} {'p99 ms':>8} {'p99 vs 1':>9} "
        f"{'RSS idle MB':>12} {'RSS connected MB':>17}"
    )
    baseline = None
    for clients in args.clients:
        with Server(env) as server, contextlib.ExitStack() as stack:
            api_base = stack.enter_context(Server(env)).base if args.two_processes else ""
            time.sleep(0.5)
            idle = server.rss_mb()
            profile = f"{args.profile}.{clients}.txt" if args.profile else ""
            latencies, rss_connected, _ = asyncio.run(
                fan_out(server, data, clients, args.changes, profile, api_base=api_base)
            )
        p99 = percentile(latencies, 99)
        if clients == 1:
            baseline = p99
        ratio = f"{p99 / baseline:8.1f}x" if baseline else f"{'-':>9}"
        print(
            f"{clients:8d} {len(latencies):10d} {percentile(latencies, 50):8.1f} {p99:8.1f} {ratio} "
            f"{idle:12.0f} {rss_connected:17.0f}"
        )


if __name__ == "__main__":
    main()
