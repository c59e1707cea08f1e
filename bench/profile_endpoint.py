"""Profile one endpoint in-process (cProfile), on the bench database, to see where the time goes.

    .venv/bin/python bench/profile_endpoint.py /api/v1/projects/small0/board
    .venv/bin/python bench/profile_endpoint.py --method POST --body '{"title": "x"}' \
        /api/v1/projects/tiny0/columns/12/cards

Runs http_bench's setup first (the same data), then `--requests` requests through Django's
test client with the bench API key, and prints the top functions by cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import bench_env
from http_bench import prepare


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--method", default="GET")
    parser.add_argument("--body", default=None, help="JSON body")
    parser.add_argument("--then", default=None, help="a second JSON body, sent on every other request (move back)")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--sql", action="store_true", help="print the SQL of one request and time it unprofiled")
    args = parser.parse_args()

    env = bench_env()
    data = prepare(env)
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "punt.settings")
    import django

    django.setup()
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1", HTTP_X_API_KEY=data["key"])

    bodies = [args.body or "", args.then or args.body or ""]
    sent = [0]

    def call() -> int:
        body = bodies[sent[0] % 2]
        sent[0] += 1
        response = client.generic(args.method, args.path, data=body, content_type="application/json")
        return response.status_code

    status = call()  # warm-up (imports, caches)
    print(f"{args.method} {args.path} -> {status}")
    if args.sql:
        print_sql_and_time(call, args.requests)
        return
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for _ in range(args.requests):
        call()
    profiler.disable()
    elapsed = time.perf_counter() - started
    print(f"{args.requests} requests in {elapsed:.2f}s ({elapsed / args.requests * 1000:.1f} ms each, profiled)")
    pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.top)
    print(json.dumps({"ms_per_request": round(elapsed / args.requests * 1000, 2)}))


def print_sql_and_time(call, requests: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        call()
    for query in queries.captured_queries:
        print(f"{query['time']}s  {query['sql']}\n")
    call()  # with --then, the next measured request repeats the captured one
    started = time.perf_counter()
    for _ in range(requests):
        call()
    elapsed = time.perf_counter() - started
    print(f"{len(queries)} queries; {requests} requests unprofiled: {elapsed / requests * 1000:.2f} ms each")


if __name__ == "__main__":
    main()
