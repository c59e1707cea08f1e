"""A real PUNT served by daphne (HTTP + WebSocket) for the browser tests.

pytest-django's live_server is WSGI-only (no WebSocket), so the browser tests start daphne
as a subprocess on a free loopback port, against a SQLite file of their own that is
migrated and seeded through the services (`manage.py shell`), never through the test
database of the in-process tests. Everything the browser sees travels the same way a
user's request would.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def output_dir() -> Path:
    """Where screenshots go so a person can look at them (PUNT_TEST_OUTPUT, else test-output/)."""
    path = Path(os.environ.get("PUNT_TEST_OUTPUT") or BASE_DIR / "test-output") / "browser"
    path.mkdir(parents=True, exist_ok=True)
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveApp:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            # DEBUG serves /static/ from the source folders (no collectstatic step in tests).
            "DEBUG": "1",
            "PUNT_TESTING": "1",
            "DATABASE_URL": f"sqlite:///{workdir / 'browser.sqlite3'}",
            "MEDIA_ROOT": str(workdir / "media"),
            "DJANGO_SETTINGS_MODULE": "punt.settings",
            "PYTHONUNBUFFERED": "1",
        }
        # Each run gets its own channel-layer prefix, so parallel runs sharing a Redis stay apart.
        self.env["REDIS_PREFIX"] = f"punt-browser-{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.log = workdir / "daphne.log"

    def manage(self, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=self.env,
            input=stdin.encode() if stdin is not None else None,
            capture_output=True,
            timeout=180,
            check=False,
        )
        if result.returncode != 0:
            output = f"{result.stdout.decode()}\n{result.stderr.decode()}"
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{output}")
        return result.stdout.decode()

    def shell(self, code: str) -> str:
        """Run Python inside the app (for seeding through the services)."""
        return self.manage("shell", "--no-imports", "-c", code)

    def start(self) -> None:
        self.manage("migrate", "--noinput", "-v", "0")
        daphne = Path(sys.executable).with_name("daphne")
        self.process = subprocess.Popen(
            [str(daphne), "-b", "127.0.0.1", "-p", str(self.port), "punt.asgi:application"],
            cwd=BASE_DIR,
            env=self.env,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"daphne exited early:\n{self.log.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"daphne did not answer in time:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


# The password the browser tests' seeds give their people.
PASSWORD = "correct horse battery staple"


def serve(tmp_path_factory: Any, name: str, seed: str) -> Iterator[LiveApp]:
    """A migrated PUNT seeded by `seed` (which prints "seeded"), for one module's fixture."""
    live = LiveApp(tmp_path_factory.mktemp(name))
    live.start()
    try:
        assert "seeded" in live.shell(seed)
        yield live
    finally:
        live.stop()


def chromium() -> Iterator[Any]:
    """Debian's Chromium under Playwright, for one module's fixture."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def sign_in(
    browser: Any,
    app: LiveApp,
    username: str,
    *,
    password: str = PASSWORD,
    viewport: dict[str, int] | None = None,
    dark: bool = False,
    timeout: int = 10_000,
) -> tuple[Any, Any]:
    """A new browser context signed in through the login page; (context, page) on Home."""
    context = browser.new_context(
        base_url=app.url, viewport=viewport or {"width": 1280, "height": 800}, color_scheme="dark" if dark else "light"
    )
    page = context.new_page()
    page.set_default_timeout(timeout)
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{app.url}/")
    return context, page
