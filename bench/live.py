"""A live app on a free 127.0.0.1 port for benchmarks, and a small HTTP client for it."""

from __future__ import annotations

import http.cookiejar
import json
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
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
    def __init__(self, database_url: str):
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
            ],
            env=self.env,
        )
        wait_for(f"{self.base}/healthz")
        return self

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)

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
