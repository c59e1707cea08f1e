"""The 1,000-card board in headless Chromium: time to usable, DOM size, and frame times of a drag.

    .venv/bin/python bench/board_drag.py            # after http_bench.py has made the data

Starts the bench server (DEBUG off, bench/results/bench.sqlite3 or DATABASE_URL), signs in as
the owner of SMALL0 (seed_demo's password), loads its board `--loads` times and reads the
Navigation Timing entry (DOMContentLoaded, load, bytes of HTML on the wire), counts elements,
then drags a card from To Do to In Progress and back while a requestAnimationFrame loop records
the time between frames (only while the pointer moves: the drop's request is not a frame).
Also times the board search as the filter bar sends it (`q=add`, 115 cards; `q=e`, nearly all).
Needs /usr/bin/chromium (Debian's) and Playwright (a test dependency).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import Server, bench_env, machine, manage

CHROMIUM = "/usr/bin/chromium"
RECORDER = """() => {
  window.__frames = []; window.__recording = true;
  let last = performance.now();
  function tick(now) {
    window.__frames.push(now - last); last = now;
    if (window.__recording) requestAnimationFrame(tick);
  }
  requestAnimationFrame(tick);
}"""
LOAD = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  return {dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd, wire: nav.transferSize,
          html: nav.decodedBodySize, elements: document.getElementsByTagName("*").length,
          cards: document.querySelectorAll(".ticket-card").length};
}"""


SEARCH = """async (url) => {
  const times = [];
  for (let i = 0; i < 10; i++) {
    const started = performance.now();
    const response = await fetch(url, {headers: {"HX-Request": "true", "HX-Target": "board"}});
    await response.text();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}"""


def column(page, name: str):
    return page.locator(f'section.column[aria-label="{name}"]')


def drag(page, source, target, steps: int) -> list[float]:
    box, goal = source.bounding_box(), target.bounding_box()
    start = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    end = (goal["x"] + goal["width"] / 2, goal["y"] + goal["height"] / 2)
    page.mouse.move(*start)
    page.mouse.down()
    page.evaluate(RECORDER)
    for i in range(1, steps + 1):
        page.mouse.move(start[0] + (end[0] - start[0]) * i / steps, start[1] + (end[1] - start[1]) * i / steps)
        page.wait_for_timeout(16)
    frames = page.evaluate("() => { window.__recording = false; return window.__frames.slice(1); }")
    with page.expect_response(lambda r: r.url.endswith("/move")):
        page.mouse.up()
    return frames


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--steps", type=int, default=60, help="pointer moves per drag")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    env = bench_env()
    manage("collectstatic", "--noinput", "-v", "0", env=env)
    found = "from projects.models import Project; p = Project.objects.get(key='SMALL0'); print(p.namespace, p.path)"
    owner = manage("shell", "-c", found, env=env).split()[-2:]
    board = f"/projects/{owner[0]}/{owner[1]}/"
    with Server(env) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context(base_url=server.base, viewport={"width": 1400, "height": 900})
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto("/login/")
        page.fill("#id_username", owner[0])
        page.fill("#id_password", "seed-password")
        page.click("button[type=submit]")
        page.wait_for_url(f"{server.base}/")
        loads = []
        for _ in range(args.loads):
            page.goto(board, wait_until="load")
            loads.append(page.evaluate(LOAD))
        # The filter bar's request (htmx: the columns only), one at a time, as typing sends it.
        search_ms = {q: page.evaluate(SEARCH, f"{board}?q={q}") for q in ("add", "e")}
        page.locator("body[data-live='1']").wait_for(state="attached")
        frames: list[float] = []
        todo, doing = column(page, "To Do"), column(page, "In Progress")
        card = todo.locator(".ticket-card").nth(2)
        number = card.get_attribute("data-number")
        frames += drag(page, card, doing.locator(".ticket-card").nth(1), args.steps)
        doing.locator(f'.ticket-card[data-number="{number}"]').wait_for()
        page.wait_for_timeout(500)
        back = doing.locator(f'.ticket-card[data-number="{number}"]')
        frames += drag(page, back, todo.locator(".ticket-card").nth(2), args.steps)
        browser.close()
    frames.sort()
    print(f"machine: {machine()}")
    print(f"board {board}: {len(loads)} loads")
    for key in ("dcl", "load"):
        print(f"  {key:10} median {statistics.median(x[key] for x in loads):8.0f} ms")
    first = loads[-1]
    print(f"  HTML {first['html'] / 1024:.0f} KB, on the wire {first['wire'] / 1024:.1f} KB (with headers)")
    print(f"  elements {first['elements']}, cards drawn {first['cards']}")
    for q, ms in search_ms.items():
        print(f"search q={q}: median {ms:.0f} ms a request (browser fetch, htmx headers)")
    figures = {
        "frames": len(frames),
        "mean_ms": round(statistics.mean(frames), 1),
        "median_ms": round(statistics.median(frames), 1),
        "p95_ms": round(frames[int(len(frames) * 0.95)], 1),
        "max_ms": round(frames[-1], 1),
    }
    print(f"drag frames (two drags across columns): {json.dumps(figures)}")


if __name__ == "__main__":
    main()
