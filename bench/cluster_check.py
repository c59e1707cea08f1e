"""PUNT as deployed: daphne processes behind nginx (deploy/nginx) on PostgreSQL + Redis.

    .venv/bin/python bench/cluster_check.py        # needs nginx, PostgreSQL on 127.0.0.1:5432, Redis

Uses its own database (`punt_cluster`, created if missing, override with CLUSTER_DATABASE_URL)
and Redis db 8 with the prefix `puntcluster`. Starts two daphne processes A and B and an nginx in
front of them (deploy/local_nginx.py: the repository's configuration under a temporary prefix),
and a second nginx with A only, then prints:

(a) a ticket moved through process A reaches a WebSocket client and an SSE client of process B;
(b) throughput of the ticket list (`/api/v1/projects/<slug>/cards?limit=50`) through nginx, with
    one process and with two (the load comes from this script, on the same cores);
(c) 200 WebSockets through nginx (`?ids=1`); process A is restarted while tickets are moved; the
    clients that lose their socket reconnect with `?last_event_id=`; each client's events are
    compared with what was published (lost / duplicated);
(d) with PUNT_API_RATE_PER_MINUTE=30, 40 requests of one user alternating between A and B: the
    limit holds for the sum.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deploy"))

import local_nginx
from harness import ROOT, Result, Server, bench_env, forget_redis_state, free_port, load, machine, manage

DATABASE_URL = os.environ.get("CLUSTER_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/punt_cluster")
REDIS_URL = os.environ.get("CLUSTER_REDIS_URL", "redis://127.0.0.1:6379/8")
REDIS_PREFIX = "puntcluster"
RATE = 30

SETUP = r"""
import json
from accounts.models import ApiKey, User, hash_api_key
from projects.models import Membership, Project
user, _ = User.objects.get_or_create(username="cluster", defaults={"email": "cluster@example.com"})
raw = "punt_cluster_key_0123456789abcdefghijklmnopqrstuvwxyz"
ApiKey.objects.get_or_create(
    hashed_key=hash_api_key(raw), defaults={"user": user, "name": "cluster", "prefix": raw[:12]}
)
project = Project.objects.get(key="CLU0")
Membership.objects.get_or_create(project=project, user=user, defaults={"role": "admin"})
columns = list(project.columns.order_by("order").values_list("id", flat=True))
movable = project.tickets.filter(deleted_at__isnull=True).exclude(column__category="done").order_by("number")
print("CLUSTER" + json.dumps({"key": raw, "slug": project.slug, "project_id": project.pk, "project_key": project.key,
      "columns": columns, "movable": list(movable.values_list("id", flat=True)[:20])}))
"""


def createdb(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    server = url.rsplit("/", 1)[0] + "/postgres"
    exists = subprocess.run(
        ["psql", server, "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if exists != "1":
        subprocess.run(["psql", server, "-c", f'CREATE DATABASE "{name}"'], capture_output=True, check=True)


def prepare(env: dict[str, str]) -> dict[str, Any]:
    createdb(env["DATABASE_URL"])
    manage("migrate", "--noinput", env=env)
    query = "from projects.models import Project; print(Project.objects.filter(key='CLU0').count())"
    count = manage("shell", "-c", query, env=env)
    if count.strip().splitlines()[-1:] != ["1"]:
        manage("seed_demo", "--projects", "1", "--tickets", "1000", "--users", "30", "--prefix", "CLU", env=env)
    manage("collectstatic", "--noinput", "-v", "0", env=env)
    output = manage("shell", "-c", SETUP, env=env)
    return json.loads(output.split("CLUSTER", 1)[1])


class Nginx:
    """deploy/nginx in front of `ports`, on a free port, under a temporary prefix."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Nginx:
        prefix = Path(tempfile.mkdtemp(prefix="punt-cluster-nginx-"))
        (prefix / "root").mkdir()
        (prefix / "root" / "static").symlink_to(ROOT / "staticfiles")
        conf = local_nginx.write_prefix(
            prefix,
            upstreams=[f"127.0.0.1:{port}" for port in self.ports],
            listen=self.port,
            static_parent=prefix / "root",
        )
        checked = local_nginx.check(conf, prefix)
        if checked.returncode != 0:
            raise RuntimeError(checked.stderr)
        self.process = local_nginx.start(conf, prefix)
        wait_for_port(self.port)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def wait_for_port(port: int, timeout: float = 30) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def restart(server: Server) -> float:
    """Stop the process (SIGTERM) and start it again on the same port; seconds it was away."""
    started = time.perf_counter()
    server.__exit__()
    server.__enter__()
    return time.perf_counter() - started


async def move(session: aiohttp.ClientSession, data: dict[str, Any], index: int) -> int:
    ticket = data["movable"][index % len(data["movable"])]
    column = data["columns"][1 + index % 2]
    async with session.patch(
        f"/api/v1/projects/{data['slug']}/cards/{ticket}/move", json={"column_id": column, "index": 0, "force": True}
    ) as response:
        await response.read()
        return response.status


# (a) ------------------------------------------------------------------------------------------


async def cross_process(a: Server, b: Server, data: dict[str, Any]) -> None:
    headers = {"X-API-Key": data["key"]}
    async with aiohttp.ClientSession(headers={**headers, "Origin": b.base}) as session:
        ws = await session.ws_connect(f"{b.base}/api/v1/ws/{data['slug']}?ids=1", heartbeat=None)
        while "presence.state" not in (await ws.receive()).data:
            pass
        sse = await session.get(f"{b.base}/api/projects/{data['project_key']}/events", timeout=aiohttp.ClientTimeout())
        assert sse.status == 200, sse.status
        await sse.content.readline()  # retry:
        async with aiohttp.ClientSession(a.base, headers=headers) as api:
            sent = time.perf_counter()
            status = await move(api, data, 0)

        async def ws_event() -> tuple[float, dict[str, Any]]:
            while True:
                message = json.loads((await ws.receive()).data)
                if message["type"] == "board.card_moved":
                    return time.perf_counter(), message

        async def sse_event() -> tuple[float, dict[str, Any]]:
            while True:
                line = (await sse.content.readline()).decode().strip()
                if line.startswith("data: "):
                    return time.perf_counter(), json.loads(line[6:])

        (ws_at, ws_message), (sse_at, sse_message) = await asyncio.wait_for(
            asyncio.gather(ws_event(), sse_event()), timeout=10
        )
        print(f"(a) move through process A (HTTP {status}) -> clients of process B:")
        print(f"    WebSocket: {ws_message['type']} id={ws_message['id']} after {(ws_at - sent) * 1000:.0f} ms")
        print(f"    SSE:       {sse_message['type']} after {(sse_at - sent) * 1000:.0f} ms")
        sse.close()
        await ws.close()


# (b) ------------------------------------------------------------------------------------------


def throughput(one: Nginx, two: Nginx, servers: list[Server], data: dict[str, Any], total: int) -> None:
    path = f"/api/v1/projects/{data['slug']}/cards?limit=50"
    headers = {"X-API-Key": data["key"]}
    wrk = shutil.which("wrk")
    # The load shares the two cores with the servers: aiohttp in Python costs about as much CPU per
    # request as a daphne process does, so it caps what two processes can show. wrk (Debian's
    # package, C) costs a small fraction; it is used when installed.
    driver = f"wrk, {WRK_SECONDS} s a round" if wrk else f"this script (aiohttp), {total} requests a round"
    print(f"(b) GET {path} through nginx, 16 connections, load from {driver}:")
    print(
        f"    {'processes':>9} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} "
        f"{'daphne CPU ms/req':>17} {'daphne cores busy':>17}"
    )
    results: dict[str, list[tuple[float, float]]] = {}
    # Interleaved rounds (1, 2, 1, 2): other load on a shared machine hits both alike.
    for label, nginx in (("1", one), ("2", two), ("1", one), ("2", two)):
        load(nginx.base, headers, lambda i: ("GET", path, None), total=100, concurrency=16, warmup=0)
        before = sum(server.cpu_seconds() for server in servers)
        if wrk:
            result = wrk_round(wrk, nginx.base + path, headers)
        else:
            result = load(nginx.base, headers, lambda i: ("GET", path, None), total=total, concurrency=16, warmup=0)
        result.server_cpu = sum(server.cpu_seconds() for server in servers) - before
        results.setdefault(label, []).append((result.requests, result.seconds))
        print(
            f"    {label:>9} {result.rps:8.1f} {result.percentile(50):7.1f} {result.percentile(99):7.1f} "
            f"{result.errors:6d} {result.cpu_ms:17.1f} {result.server_cpu / result.seconds:17.2f}"
        )

    def rps(label: str) -> float:
        return sum(n for n, _ in results[label]) / sum(t for _, t in results[label])

    print(f"    two processes / one: {rps('2') / rps('1'):.2f}x ({rps('1'):.0f} -> {rps('2'):.0f} req/s overall)")
    print(f"    load average during the check: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


WRK_SECONDS = 10


def wrk_round(wrk: str, url: str, headers: dict[str, str]) -> Result:
    """One round of `wrk` (one thread, 16 connections): its requests, seconds, latencies, errors."""
    command = [wrk, "-t1", "-c16", f"-d{WRK_SECONDS}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    numbers = re.search(r"(\d+) requests in ([\d.]+)(m?s)", output)
    assert numbers, output
    seconds = float(numbers[2]) / (1000 if numbers[3] == "ms" else 1)
    result = Result(name="wrk", requests=int(numbers[1]), seconds=seconds)
    for pct in ("50", "99"):
        latency = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)", output, re.M)
        if latency:
            value = float(latency[1]) * {"us": 0.001, "ms": 1, "s": 1000}[latency[2]]
            # Result keeps latencies; two values are enough for its 50th and 99th percentiles.
            result.latencies_ms += [value] * (50 if pct == "50" else 49)
    result.latencies_ms.sort()
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    result.errors = int(errors[1]) if errors else 0
    return result


# (c) ------------------------------------------------------------------------------------------


class Client:
    """One browser tab: a project socket through nginx that reconnects with its last event id."""

    def __init__(self, base: str, data: dict[str, Any]) -> None:
        self.url = f"{base.replace('http', 'ws', 1)}/api/v1/ws/{data['slug']}?api_key={data['key']}"
        self.origin = base
        self.ids: Counter[int] = Counter()
        self.last_id: int | None = None
        self.reconnects = 0
        self.ready = asyncio.Event()
        self.stopping = False

    async def run(self, session: aiohttp.ClientSession) -> None:
        while not self.stopping:
            url = self.url + (f"&last_event_id={self.last_id}" if self.last_id is not None else "&ids=1")
            try:
                ws = await session.ws_connect(url, heartbeat=None, headers={"Origin": self.origin})
            except (aiohttp.ClientError, OSError):
                await asyncio.sleep(0.2)
                continue
            try:
                async for message in ws:
                    if message.type != aiohttp.WSMsgType.TEXT:
                        break
                    body = json.loads(message.data)
                    if body["type"] == "presence.state":
                        self.ready.set()
                    elif "id" in body:
                        self.ids[body["id"]] += 1
                        self.last_id = max(self.last_id or 0, body["id"])
            except (aiohttp.ClientError, OSError):
                pass
            finally:
                await ws.close()
            if not self.stopping:
                self.reconnects += 1
                await asyncio.sleep(0.1)


def published_ids(data: dict[str, Any], after: int) -> list[int]:
    """The project's events after `after`, from the replay buffer in Redis (the ground truth)."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    raw = client.lrange(f"{REDIS_PREFIX}:rt:replay:project.{data['project_id']}", 0, -1)
    return sorted(int(record["id"]) for record in map(json.loads, raw) if int(record["id"]) > after)


def current_seq() -> int:
    import redis

    return int(redis.Redis.from_url(REDIS_URL).get(f"{REDIS_PREFIX}:rt:seq") or 0)


async def restart_under_load(nginx: Nginx, victim: Server, data: dict[str, Any], clients: int, changes: int) -> None:
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        tabs = [Client(nginx.base, data) for _ in range(clients)]
        tasks = []
        for start in range(0, clients, 50):  # in waves, as browsers would
            tasks += [asyncio.create_task(tab.run(session)) for tab in tabs[start : start + 50]]
            await asyncio.wait_for(asyncio.gather(*(tab.ready.wait() for tab in tabs[start : start + 50])), 60)
        await asyncio.sleep(1.0)
        baseline = await asyncio.to_thread(current_seq)
        statuses: Counter[int] = Counter()
        away = 0.0
        async with aiohttp.ClientSession(nginx.base, headers={"X-API-Key": data["key"]}) as api:

            async def changes_loop() -> None:
                for index in range(changes):
                    try:
                        statuses[await move(api, data, index)] += 1
                    except aiohttp.ClientError:
                        statuses[0] += 1
                    await asyncio.sleep(0.05)

            mover = asyncio.create_task(changes_loop())
            await asyncio.sleep(1.5)
            away = await asyncio.to_thread(restart, victim)
            await mover
        expected = await asyncio.to_thread(published_ids, data, baseline)
        wanted = set(expected)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(not wanted <= set(tab.ids) for tab in tabs):
            await asyncio.sleep(0.2)
        for tab in tabs:
            tab.stopping = True
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    lost = sum(len(wanted - set(tab.ids)) for tab in tabs)
    duplicated = sum(count - 1 for tab in tabs for count in tab.ids.values() if count > 1)
    extra = sum(len(set(tab.ids) - wanted - {i for i in tab.ids if i <= baseline}) for tab in tabs)
    reconnected = sum(1 for tab in tabs if tab.reconnects)
    complete = sum(1 for tab in tabs if wanted <= set(tab.ids))
    print(f"(c) {clients} WebSockets through nginx, {changes} moves, process A restarted ({away:.1f} s away):")
    print(f"    move responses: {dict(sorted(statuses.items()))}; events published: {len(expected)}")
    print(f"    clients that reconnected with last_event_id: {reconnected}")
    print(f"    clients with every event: {complete}/{clients}; lost: {lost}; duplicated: {duplicated}; other: {extra}")


# (d) ------------------------------------------------------------------------------------------


async def rate_limit(a: Server, b: Server, nginx: Nginx, data: dict[str, Any], requests: int) -> None:
    path = f"/api/v1/projects/{data['slug']}/cards?limit=1"
    statuses: dict[str, Counter[int]] = {"A": Counter(), "B": Counter()}
    async with aiohttp.ClientSession(headers={"X-API-Key": data["key"]}) as session:
        for index in range(requests):
            name, server = ("A", a) if index % 2 == 0 else ("B", b)
            async with session.get(server.base + path) as response:
                statuses[name][response.status] += 1
        async with session.get(nginx.base + path) as response:
            via_nginx = response.status, response.headers.get("X-RateLimit-Remaining")
    ok = statuses["A"][200] + statuses["B"][200]
    print(f"(d) PUNT_API_RATE_PER_MINUTE={RATE}; {requests} requests of one user, alternating A and B:")
    print(f"    A: {dict(statuses['A'])}  B: {dict(statuses['B'])}  -> {ok} allowed in all (limit {RATE})")
    print(f"    one more through nginx: HTTP {via_nginx[0]}, X-RateLimit-Remaining {via_nginx[1]}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--changes", type=int, default=60)
    parser.add_argument("--requests", type=int, default=800, help="per throughput round")
    args = parser.parse_args()
    env = bench_env(
        {
            "DATABASE_URL": DATABASE_URL,
            "REDIS_URL": REDIS_URL,
            "REDIS_PREFIX": REDIS_PREFIX,
            "PUNT_TRUSTED_PROXY_COUNT": "1",
        }
    )
    forget_redis_state(env)
    data = prepare(env)
    print(f"machine: {machine()}")
    database = DATABASE_URL.rsplit("/", 1)[1]
    print(f"PostgreSQL {database}, Redis {REDIS_URL} prefix {REDIS_PREFIX}, nginx {local_nginx.nginx_binary()}")
    with Server(env) as a, Server(env) as b, Nginx([a.port, b.port]) as two, Nginx([a.port]) as one:
        asyncio.run(cross_process(a, b, data))
        throughput(one, two, [a, b], data, args.requests)
        asyncio.run(restart_under_load(two, a, data, args.clients, args.changes))
    limited = {**env, "PUNT_API_RATE_PER_MINUTE": str(RATE)}
    forget_redis_state(limited)  # counters of the earlier phases
    with Server(limited) as a, Server(limited) as b, Nginx([a.port, b.port]) as two:
        asyncio.run(rate_limit(a, b, two, data, RATE + 10))


if __name__ == "__main__":
    main()
