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
import json
import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import Server, bench_env
from http_bench import prepare


async def fan_out(server: Server, data: dict, clients: int, changes: int) -> tuple[list[float], float, float]:
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
        for start in range(0, clients, 100):  # connect in waves, as browsers would
            batch = await asyncio.gather(
                *(session.ws_connect(ws_url, heartbeat=None) for _ in range(start, min(clients, start + 100)))
            )
            sockets.extend(batch)
        await asyncio.sleep(1.0)  # let presence traffic settle
        rss_connected = server.rss_mb()

        async def reader(ws: aiohttp.ClientWebSocketResponse) -> None:
            async for message in ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    break
                event = json.loads(message.data)
                if event.get("type") != "board.card_moved":
                    continue
                change = event["payload"].get("to_column_id")
                round_id = current_round[0]
                if round_id in sent_at:
                    latencies.append((time.perf_counter() - sent_at[round_id]) * 1000)
                    counts[round_id] = counts.get(round_id, 0) + 1
                    if counts[round_id] >= clients:
                        received.set()
                del change

        current_round = [0]
        readers = [asyncio.create_task(reader(ws)) for ws in sockets]
        async with aiohttp.ClientSession(server.base, headers={"X-API-Key": key}) as api:
            for round_id in range(1, changes + 1):
                received.clear()
                current_round[0] = round_id
                target = doing if round_id % 2 else todo
                sent_at[round_id] = time.perf_counter()
                async with api.patch(
                    f"/api/v1/projects/{slug}/cards/{ticket_id}/move",
                    json={"column_id": target, "index": 0, "force": True},
                ) as response:
                    await response.read()
                try:
                    await asyncio.wait_for(received.wait(), timeout=10)
                except TimeoutError:
                    print(f"  round {round_id}: only {counts.get(round_id, 0)}/{clients} clients got the event")
        rss_after = server.rss_mb()
        for task in readers:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    return latencies, rss_connected, rss_after


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, nargs="*", default=[100, 1000])
    parser.add_argument("--changes", type=int, default=20)
    args = parser.parse_args()
    env = bench_env()
    data = prepare(env)
    print(f"channel layer: {'redis' if env.get('REDIS_URL') else 'in-memory'}")
    print(f"{'clients':>8} {'deliveries':>10} {'p50 ms':>8} {'p99 ms':>8} {'RSS idle MB':>12} {'RSS connected MB':>17}")
    for clients in args.clients:
        with Server(env) as server:
            time.sleep(0.5)
            idle = server.rss_mb()
            latencies, rss_connected, _ = asyncio.run(fan_out(server, data, clients, args.changes))
        print(
            f"{clients:8d} {len(latencies):10d} {percentile(latencies, 50):8.1f} {percentile(latencies, 99):8.1f} "
            f"{idle:12.0f} {rss_connected:17.0f}"
        )


if __name__ == "__main__":
    main()
