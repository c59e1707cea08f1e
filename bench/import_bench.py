"""Import speed and memory: a generated Jira CSV export of N issues into a fresh project.

    .venv/bin/python bench/import_bench.py                # 2,000 and 10,000 issues, SQLite
    .venv/bin/python bench/import_bench.py 10000 50000    # other sizes
    DATABASE_URL=postgres://... .venv/bin/python bench/import_bench.py

Each import runs in a child process of its own (`import_bench.py --child`), so its peak RSS
(ru_maxrss) is the import's alone; the same file is then imported a second time (every ticket
updated in place, nothing added). The generated issues look like a real export: a paragraph
of description, 2 comments, 2 labels and a component, a sprint out of 20, story points, a
due date on every third, a parent on every tenth (sub-tasks), a "Blocks" link on every fifth
(listed from both ends, as Jira does) and a "Relates" link on every seventh, four custom fields
(two text, a number, a date on every other issue), a status out of five. Bench database:
bench/results/import_bench.sqlite3.
"""

from __future__ import annotations

import csv
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import RESULTS, ROOT, bench_env, manage

HEADER = [
    "Summary",
    "Issue key",
    "Issue id",
    "Parent id",
    "Issue Type",
    "Status",
    "Priority",
    "Assignee",
    "Reporter",
    "Created",
    "Updated",
    "Resolved",
    "Due Date",
    "Labels",
    "Labels",
    "Component/s",
    "Sprint",
    "Description",
    "Custom field (Story Points)",
    "Custom field (Severity)",
    "Custom field (Customer)",
    "Custom field (Budget)",
    "Custom field (Go-live)",
    "Comment",
    "Comment",
    "Outward issue link (Blocks)",
    "Inward issue link (Blocks)",
    "Outward issue link (Relates)",
]
STATUSES = ["To Do", "In Progress", "In Review", "Done", "Backlog"]
PEOPLE = ["Olivia Owner", "Bench User 1", "Bench User 2", "Someone Else", "Another Stranger"]
WORDS = [
    "the",
    "login",
    "page",
    "fails",
    "when",
    "the",
    "session",
    "expires",
    "and",
    "the",
    "user",
    "clicks",
    "save",
    "again",
    "after",
    "a",
    "while",
]


def jira_date(n: int) -> str:
    day = 1 + n % 28
    return f"{day:02d}/Mar/24 {1 + n % 12}:{n % 60:02d} {'AM' if n % 2 else 'PM'}"


def words(rng: random.Random, count: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(count))


def generate(path: Path, count: int, key: str) -> None:
    rng = random.Random(count)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for n in range(1, count + 1):
            status = STATUSES[n % len(STATUSES)]
            text = " ".join(rng.choice(WORDS) for _ in range(60))
            writer.writerow(
                [
                    f"Issue {n}: " + " ".join(rng.choice(WORDS) for _ in range(6)),
                    f"{key}-{n}",
                    str(100000 + n),
                    str(100000 + n - 1) if n % 10 == 0 else "",
                    "Sub-task" if n % 10 == 0 else ("Bug" if n % 3 == 0 else "Story"),
                    status,
                    ["Highest", "High", "Medium", "Low"][n % 4],
                    PEOPLE[n % len(PEOPLE)],
                    PEOPLE[(n + 1) % len(PEOPLE)],
                    jira_date(n),
                    jira_date(n + 1),
                    jira_date(n + 2) if status == "Done" else "",
                    f"{1 + n % 28:02d}/Apr/24" if n % 3 == 0 else "",
                    f"area-{n % 30}",
                    f"team-{n % 7}",
                    f"component-{n % 12}",
                    f"Sprint {n % 20}",
                    text,
                    str(n % 13),
                    ["Low", "High", "Critical"][n % 3],
                    f"Customer {n % 50}",
                    f"{n * 7 % 1000}.50",
                    f"{1 + n % 28:02d}/May/24" if n % 2 else "",
                    f"{jira_date(n)};{PEOPLE[n % 5]};First comment on {n}: {words(rng, 20)}",
                    f"{jira_date(n + 1)};{PEOPLE[(n + 2) % 5]};Second comment on {n}.",
                    f"{key}-{n + 1}" if n % 5 == 0 and n < count else "",
                    f"{key}-{n - 1}" if n % 5 == 1 and n > 1 else "",
                    f"{key}-{n - 3}" if n % 7 == 0 else "",
                ]
            )


def child(path: str, key: str) -> None:
    """Run one import in this process and print its time, peak RSS and counts as JSON."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "punt.settings")
    django.setup()
    from imports import services
    from projects.models import Project

    project = Project.objects.get(key=key)
    by = project.owner_user
    started = time.perf_counter()
    with open(path, "rb") as stream:
        report = services.import_file(project=project, by=by, source="jira-csv", stream=stream)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "seconds": round(seconds, 1),
                "peak_rss_mb": round(peak_mb),
                "created": report.tickets_created,
                "updated": report.tickets_updated,
                "comments": report.comments_created + report.comments_updated,
                "values": report.custom_values,
                "links": sum(report.links.values()),
                "links_existing": report.links_existing,
                "error": report.error,
            }
        )
    )


def setup(env: dict[str, str], sizes: list[int]) -> None:
    manage("migrate", "--noinput", env=env)
    script = (
        "from accounts.models import User\n"
        "from projects import services\n"
        "from projects.models import Project\n"
        "from tickets.models import Ticket\n"
        "owner, _ = User.objects.get_or_create(username='bench_owner', defaults={'display_name': 'Olivia Owner'})\n"
        "for n in (1, 2):\n"
        "    User.objects.get_or_create(username=f'bench_user_{n}', defaults={'display_name': f'Bench User {n}'})\n"
        f"for size in {sizes!r}:\n"
        "    key = f'IMP{size}'\n"
        "    Ticket.objects.filter(project__key=key).delete()  # columns are protected while tickets use them\n"
        "    Project.objects.filter(key=key).delete()\n"
        "    project = services.project_create(by=owner, name=f'Import {size}', key=key)\n"
        "    for n in (1, 2):\n"
        "        services.membership_add(project=project, username=f'bench_user_{n}', role='member', by=owner)\n"
    )
    manage("shell", "-c", script, env=env)


def main(sizes: list[int]) -> None:
    env = bench_env({"DATABASE_URL": os.environ.get("DATABASE_URL") or f"sqlite:///{RESULTS / 'import_bench.sqlite3'}"})
    setup(env, sizes)
    engine = "PostgreSQL" if env["DATABASE_URL"].startswith("postgres") else "SQLite"
    print(f"{engine}; one import per child process; peak RSS of that process")
    print(
        f"{'issues':>8} {'file MB':>8} {'pass':>8} {'seconds':>8} {'peak RSS MB':>12} {'created':>8} {'updated':>8}"
        f" {'values':>8} {'links':>6} {'kept':>6}"
    )
    for size in sizes:
        path = RESULTS / f"jira-{size}.csv"
        generate(path, size, f"SRC{size}")
        megabytes = path.stat().st_size / 1024 / 1024
        for name in ("first", "again"):
            result = subprocess.run(
                [sys.executable, __file__, "--child", str(path), f"IMP{size}"],
                env=env,
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            )
            row = json.loads(result.stdout.strip().splitlines()[-1])
            if row["error"]:
                raise SystemExit(f"import failed: {row['error']}")
            print(
                f"{size:>8} {megabytes:>8.1f} {name:>8} {row['seconds']:>8} {row['peak_rss_mb']:>12} "
                f"{row['created']:>8} {row['updated']:>8} {row['values']:>8} {row['links']:>6}"
                f" {row['links_existing']:>6}"
            )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], sys.argv[3])
    else:
        main([int(arg) for arg in sys.argv[1:]] or [2000, 10000])
