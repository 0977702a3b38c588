"""A live app on a free 127.0.0.1 port for benchmarks, and a small HTTP client for it."""

from __future__ import annotations

import http.cookiejar
import json
import os
import random
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from server.demo import DEMO_PASSWORD

BENCH_SECRET = "bench-secret-key-0123456789"


def free_port() -> int:
    """A free 127.0.0.1 port: any, or one of XUEGONG_BENCH_PORTS ("8700-8799") when set."""
    wanted = os.environ.get("XUEGONG_BENCH_PORTS")
    candidates = [0]
    if wanted:
        low, high = (int(p) for p in wanted.split("-"))
        candidates = random.sample(range(low, high + 1), high - low + 1)
    for port in candidates:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise RuntimeError(f"no free port in {wanted}")


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer within {seconds} s") from None
            time.sleep(0.1)


class LiveApp:
    """`python -m uvicorn` serving the app on a free port; `log` (a path) takes its output."""

    def __init__(self, database_url: str, log: str | None = None, workers: int = 1):
        self.log = log
        self.workers = workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            "XUEGONG_DATABASE_URL": database_url,
            "XUEGONG_SECRET_KEYS": BENCH_SECRET,
            "XUEGONG_BASE_URL": self.base,
            "PATH": "/usr/bin:/bin",
        }
        jar = http.cookiejar.CookieJar()
        self.cookies = jar
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(jar), urllib.request.ProxyHandler({})
        )

    def __enter__(self) -> LiveApp:
        self.start()
        return self

    def start(self) -> None:
        output = open(self.log, "ab") if self.log else None  # noqa: SIM115 (the child keeps it)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "server.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
                "--workers",
                str(self.workers),
            ],
            env=self.env,
            stdout=output,
            stderr=output,
        )
        if output:
            output.close()
        wait_for(f"{self.base}/healthz")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, no cleanup — a power cut for the process."""
        self.process.kill()
        self.process.wait(timeout=10)

    def __exit__(self, *exc) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:  # stuck (a stalled pool): do not leave it behind
                self.kill()
                raise

    def log_in(self, username: str) -> None:
        page = self.opener.open(f"{self.base}/login").read().decode()
        token = re.search(r'name="_csrf_token" value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode(
            {"username": username, "password": DEMO_PASSWORD, "_csrf_token": token}
        ).encode()
        self.opener.open(f"{self.base}/login", data=body).read()

    def get(self, path: str) -> bytes:
        return self.opener.open(f"{self.base}{path}").read()

    def post_json(self, path: str, body: dict) -> dict:
        request = urllib.request.Request(
            f"{self.base}{path}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        return json.loads(self.opener.open(request).read())


def separate_database(test_url: str, folder) -> str:
    """A database of its own next to the test run's, for tests that push many entries: on
    PostgreSQL the test database's name + `_load` (created when missing), else a file in
    `folder`. Empty (no schema) until the caller fills it."""
    if test_url.startswith("postgresql"):
        from sqlalchemy.engine import make_url

        from tests.postgres import main as ensure_postgres

        url = make_url(test_url)
        url = url.set(database=f"{url.database}_load").render_as_string(hide_password=False)
        if ensure_postgres(url) != 0:
            raise RuntimeError(f"cannot create {url}")
        return url
    return f"sqlite:///{folder}/load.sqlite3"
