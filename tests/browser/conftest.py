"""Real-browser tests: headless Debian Chromium against the app served by uvicorn.

Every test in this folder is marked `browser` (`pytest -m "not browser"` leaves them out).
The app runs as its own process on a free port of 127.0.0.1, on the session's test
database (tests/conftest.py) and with the same secret keys as the in-process `settings`,
so door tokens made in the test verify in the server too. Later tests stop and restart
that process on the same port (offline use), hence `live_server.stop()` / `.start()`.

Waiting is never `time.sleep` for page state: Playwright's `expect()` waits by itself;
server rows are awaited with `poll()` (bounded).
"""

from __future__ import annotations

import csv
import ctypes
import io
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from playwright.sync_api import Page, expect

from server import demo
from server.settings import PROJECT_DIR, Settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HOST = "127.0.0.1"
START_TIMEOUT_S = 30
STOP_TIMEOUT_S = 10
LOG_TAIL_LINES = 80
HERE = Path(__file__).resolve().parent

T = TypeVar("T")


# --- marker and browser presence ----------------------------------------------------------


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        if Path(str(item.path)).resolve().is_relative_to(HERE):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session", autouse=True)
def _chromium_present() -> None:
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CI") or os.environ.get("XUEGONG_REQUIRE_BROWSER"):
        pytest.fail(
            f"{CHROMIUM} is missing and browser tests are required here (CI / XUEGONG_REQUIRE_BROWSER)"
        )
    pytest.skip("Debian chromium not installed (apt-get install chromium fonts-noto-cjk)")


# --- the live server ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


# never through a proxy from the environment: only 127.0.0.1 is ever spoken to
_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _die_with_pytest() -> None:
    """Runs in the child before exec: a killed test run (timeout, ^C twice) leaves no server."""
    if sys.platform.startswith("linux"):
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class LiveServer:
    """The app under uvicorn in a child process; stop() and start() keep the same port."""

    def __init__(self, settings: Settings, port: int, log_path: Path):
        self.port = port
        self.url = f"http://{HOST}:{port}"
        self.log_path = log_path
        self.command = [
            sys.executable, "-m", "uvicorn", "server.app:create_app", "--factory",
            "--host", HOST, "--port", str(port),
        ]  # fmt: skip
        inherited = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("XUEGONG_") and k not in ("HOST", "PORT")
        }
        self.env = {
            **inherited,
            "XUEGONG_DATABASE_URL": settings.database_url,
            "XUEGONG_SECRET_KEYS": ",".join(settings.secret_keys),
            "XUEGONG_VAR_DIR": str(settings.var_dir),
            "XUEGONG_BASE_URL": self.url,
            "NO_PROXY": HOST,
            "no_proxy": HOST,
        }
        self.process: subprocess.Popen | None = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        if self.running:
            return
        with self.log_path.open("ab") as log:
            log.write(f"\n--- start {' '.join(self.command)}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                self.command,
                cwd=PROJECT_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_pytest,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(
                    f"the live server exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            if self.healthy():
                return
            time.sleep(0.1)
        self.stop()
        pytest.fail(
            f"the live server did not answer /healthz within {START_TIMEOUT_S} s:\n{self.log_tail()}"
        )

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT_S)
        self.process = None

    def healthy(self) -> bool:
        try:
            with _direct.open(f"{self.url}/healthz", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        if not self.log_path.exists():
            return "(no server log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture(scope="session")
def live_server(settings, tmp_path_factory):
    server = LiveServer(
        settings, free_port(), tmp_path_factory.mktemp("live_server") / "server.log"
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    server = item.funcargs.get("live_server") if hasattr(item, "funcargs") else None
    if report.failed and isinstance(server, LiveServer):
        report.sections.append(("live server log (tail)", server.log_tail()))
    return report


@pytest.fixture(scope="session")
def door_labels(live_server) -> list[dict[str, str]]:
    """`xuegong labels --csv` run for real against the live server's settings: building, room, url."""
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "labels", "--csv"],
        cwd=PROJECT_DIR,
        env=live_server.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, f"xuegong labels --csv failed:\n{done.stderr}"
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert rows, "xuegong labels --csv printed no rooms"
    assert all(r["url"].startswith(f"{live_server.url}/d/") for r in rows), rows[0]
    return rows


# --- pytest-playwright settings -----------------------------------------------------------


@pytest.fixture(scope="session")
def base_url(live_server) -> str:
    """Relative page.goto("/login") goes to the live server."""
    return live_server.url


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args, live_server):
    return {
        **browser_context_args,
        "viewport": {"width": 390, "height": 844},
        "locale": "zh-CN",
        "timezone_id": "Asia/Shanghai",
        "base_url": live_server.url,
        "service_workers": "allow",
    }


@pytest.fixture
def page(page: Page):
    """pytest-playwright's page, failing the test when a script on it throws uncaught."""
    uncaught: list[str] = []
    page.on("pageerror", lambda exc: uncaught.append(f"{page.url}: {exc}"))
    yield page
    assert not uncaught, "uncaught script errors:\n" + "\n".join(uncaught)


# --- helpers for the tests ----------------------------------------------------------------


def log_in(page: Page, username: str, password: str = demo.DEMO_PASSWORD) -> None:
    """Fill in the login page the browser is on (or open it) and wait until it is left."""
    if "/login" not in page.url:
        page.goto("/login")
    page.locator('input[name="username"]').fill(username)
    page.locator('input[name="password"]').fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page).not_to_have_url(re.compile(r"/login"))


def log_out(page: Page) -> None:
    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(re.compile(r"/login$"))


def poll(check: Callable[[], T], *, timeout: float = 10.0, what: str = "the condition") -> T:
    """Call `check` until it returns something truthy (bounded); for rows the server writes."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)
