"""Shared pieces of the benchmarks: a real daphne server in a subprocess, and a load driver.

The server runs the project exactly as in production (daphne, ASGI), on SQLite by default or
on PostgreSQL + Redis when DATABASE_URL / REDIS_URL are set. The load comes from this
process over loopback, with a bounded number of requests.
"""

from __future__ import annotations

import asyncio
import math
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
# The checkout whose code the server runs: PUNT_BENCH_APP=<another checkout> measures that code
# (e.g. the commit before a change) with this bench, its scenarios and its data.
APP = Path(os.environ.get("PUNT_BENCH_APP") or ROOT).resolve()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def forget_redis_state(env: dict[str, str]) -> None:
    """Drop what earlier runs left under the bench's Redis prefix (README: a db/prefix of its own).

    Group memberships of servers that were stopped stay in Redis for a day (channels-redis'
    group expiry); a few thousand of them made every group send read them all.
    """
    if not env.get("REDIS_URL"):
        return
    import redis

    client = redis.Redis.from_url(env["REDIS_URL"])
    prefix = env.get("REDIS_PREFIX", "punt")
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


def bench_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of the server and of the setup: DEBUG off, the bench database."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("DATABASE_URL", f"sqlite:///{RESULTS / 'bench.sqlite3'}")
    env.update(
        {
            "DEBUG": "0",
            "SECRET_KEY": env.get("SECRET_KEY", "bench-secret-key-not-for-production-0123456789abcdef"),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "PUNT_QUERY_COUNT_HEADER": "1",
            "PUNT_API_RATE_PER_MINUTE": "100000000",
            "LOG_LEVEL": "WARNING",
        }
    )
    env.update(extra or {})
    return env


def manage(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=APP, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


class Server:
    """`daphne punt.asgi:application` on a free loopback port, stopped on exit."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        daphne = Path(sys.executable).with_name("daphne")
        # PUNT_BENCH_SERVER_LOG=path keeps the server's output (errors) there.
        log_path = self.env.get("PUNT_BENCH_SERVER_LOG")
        log = open(log_path, "ab") if log_path else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [str(daphne), "-b", "127.0.0.1", "-p", str(self.port), "punt.asgi:application"],
            cwd=APP,
            env=self.env,
            stdout=log,
            stderr=log,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        self.__exit__()
        raise RuntimeError("daphne did not start")

    def __exit__(self, *exc: Any) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far."""
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def database_cpu_seconds(self) -> float:
        """CPU time PostgreSQL has used so far (nan on SQLite, whose work is the server's own)."""
        if not self.env["DATABASE_URL"].startswith("postgres"):
            return float("nan")
        return postgres_cpu_seconds()

    def rss_mb(self) -> float:
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")


def _proc_stat(pid: str) -> tuple[str, list[str]] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # gone, or not ours to read
        return None
    name = text[text.index("(") + 1 : text.rindex(")")]
    return name, text.rsplit(")", 1)[1].split()


def postgres_cpu_seconds() -> float:
    """User + system CPU of every PostgreSQL process on this machine, and of the backends that have
    exited (the postmaster's children's CPU, counted when it reaps them). A backend per request
    exits with its CPU, so a sum over live backends alone would miss it. Other databases' work on
    the same server counts too: run the bench on a quiet machine."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        stat = _proc_stat(entry.name)
        if stat is None or stat[0] != "postgres":
            continue
        fields = stat[1]
        total += int(fields[11]) + int(fields[12])
        parent = _proc_stat(fields[1])
        if parent is None or parent[0] != "postgres":  # the postmaster: add its reaped children
            total += int(fields[13]) + int(fields[14])
    return total / os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    wire_bytes: list[int] = field(default_factory=list)  # body bytes as sent (compressed if it was)
    errors: int = 0
    server_cpu: float = float("nan")  # seconds of server CPU over the measured requests
    database_cpu: float = float("nan")  # seconds of PostgreSQL CPU over them (nan on SQLite)
    # The floor measured in rounds interleaved with this scenario's (None: the run's floor).
    floor: Result | None = None

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, pct: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]

    def merged(self, other: Result, name: str) -> Result:
        """Two runs of the same scenario as one (e.g. the floor at the start and at the end)."""
        return Result(
            name=name,
            requests=self.requests + other.requests,
            seconds=self.seconds + other.seconds,
            latencies_ms=[*self.latencies_ms, *other.latencies_ms],
            queries=[*self.queries, *other.queries],
            wire_bytes=[*self.wire_bytes, *other.wire_bytes],
            errors=self.errors + other.errors,
            server_cpu=self.server_cpu + other.server_cpu,
            database_cpu=self.database_cpu + other.database_cpu,
        )

    @property
    def cpu_ms(self) -> float:
        """Server CPU per request: unlike req/s, barely moved by other load on the machine."""
        return self.server_cpu / self.requests * 1000 if self.requests else float("nan")

    @property
    def database_cpu_ms(self) -> float:
        """PostgreSQL CPU per request: the work a request moved into the database."""
        return self.database_cpu / self.requests * 1000 if self.requests else float("nan")

    @property
    def queries_per_request(self) -> float:
        return statistics.mean(self.queries) if self.queries else float("nan")

    @property
    def kb_per_response(self) -> float:
        return statistics.mean(self.wire_bytes) / 1024 if self.wire_bytes else float("nan")


Request = tuple[str, str, Any]  # method, path, JSON body
RequestFactory = Callable[[int], Request]


async def _drive(
    base: str, headers: dict[str, str], make: RequestFactory, total: int, concurrency: int, name: str
) -> Result:
    result = Result(name=name, requests=total, seconds=0.0)
    counter = iter(range(total))
    connector = aiohttp.TCPConnector(limit=concurrency)
    # aiohttp asks for gzip like a browser; the body is kept as sent, to count bytes on the wire.
    async with aiohttp.ClientSession(base, headers=headers, connector=connector, auto_decompress=False) as session:

        async def worker() -> None:
            for index in counter:
                method, path, body = make(index)
                started = time.perf_counter()
                async with session.request(method, path, json=body) as response:
                    result.wire_bytes.append(len(await response.read()))
                    if response.status >= 400:
                        result.errors += 1
                    if "X-Query-Count" in response.headers:
                        result.queries.append(int(response.headers["X-Query-Count"]))
                result.latencies_ms.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        result.seconds = time.perf_counter() - started
    return result


def load(
    base: str,
    headers: dict[str, str],
    make: RequestFactory,
    *,
    total: int,
    concurrency: int = 8,
    name: str = "",
    warmup: int = 20,
    server: Server | None = None,
) -> Result:
    """Send `total` requests (after `warmup` unmeasured ones) with `concurrency` connections.

    With `server`, also measures the server's CPU time over the measured requests.
    """
    asyncio.run(_drive(base, headers, make, warmup, min(concurrency, warmup), name))
    cpu_before = server.cpu_seconds() if server else float("nan")
    database_before = server.database_cpu_seconds() if server else float("nan")
    result = asyncio.run(_drive(base, headers, make, total, concurrency, name))
    if server:
        result.server_cpu = server.cpu_seconds() - cpu_before
        result.database_cpu = server.database_cpu_seconds() - database_before
    return result


def machine() -> str:
    """The machine the figures come from: cores, CPU model, Python, date (for bench/README.md)."""
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (
        f"{os.cpu_count()} cores, {model}, Python {sys.version.split()[0]}, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )


def _blank_nan(value: float) -> str:
    return "" if math.isnan(value) else f"{value:.2f}"


def print_table(results: list[Result], floor: Result) -> None:
    """req/s and its ratio to the floor's (the target), plus server CPU ms per request and the
    same ratio computed from it (floor CPU / scenario CPU), which other load on a shared
    machine disturbs much less than req/s. A result measured with its own interleaved floor
    is compared with that. KB: the mean response body as sent (gzipped where the server did).
    db ms: PostgreSQL's CPU per request (blank on SQLite, where it is part of the server's)."""
    print(
        f"{'scenario':60} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'queries':>7} {'errors':>6} "
        f"{'vs floor':>8} {'cpu ms':>7} {'cpu vs floor':>12} {'db ms':>7} {'KB':>7}"
    )
    for r in [floor, *results]:
        base = r.floor or floor
        ratio = r.rps / base.rps if base.rps else float("nan")
        cpu_ratio = base.cpu_ms / r.cpu_ms if r.cpu_ms else float("nan")
        print(
            f"{r.name:60} {r.rps:8.1f} {r.percentile(50):7.1f} {r.percentile(99):7.1f} "
            f"{r.queries_per_request:7.1f} {r.errors:6d} {ratio:8.0%} {r.cpu_ms:7.2f} {cpu_ratio:12.0%} "
            f"{_blank_nan(r.database_cpu_ms):>7} {r.kb_per_response:7.1f}"
        )
