"""The college's real topology (docs/deploy.md): nginx with TLS in front of two app processes
on PostgreSQL, and the offline round through it — prepare, go offline, two door visits, back
online, each visit stored exactly once.

The test makes its own self-signed certificate (openssl), its own PostgreSQL database with the
small demo college, starts both app processes with `xuegong run` and nginx from Debian on free
ports of 127.0.0.1, and a Chromium that accepts the certificate (a service worker is only
registered on a secure origin: `ignore_https_errors` alone is not enough, STACK.md).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from server import demo
from server.db import make_engine, make_sessionmaker, upgrade
from server.settings import PROJECT_DIR
from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    HOST,
    _die_with_pytest,
    free_port,
    log_in,
)
from tests.browser.test_offline import (
    assert_arrived_once,
    badge,
    prepare_for_rounds,
    rooms_to_visit,
    save_visit_offline,
    talk_for,
    wait_for_worker,
)
from tests.conftest import TEST_SECRET, user_named

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
START_TIMEOUT_S = 30
POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/xuegong_test"
)


def _required() -> bool:
    return bool(os.environ.get("CI") or os.environ.get("XUEGONG_REQUIRE_BROWSER"))


@pytest.fixture(scope="module")
def topology_database() -> str:
    """A database of its own on the suite's PostgreSQL server, with the small demo college."""
    target = make_url(POSTGRES_URL).set(database="xuegong_topology")
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text('DROP DATABASE IF EXISTS "xuegong_topology" WITH (FORCE)'))
            conn.execute(text('CREATE DATABASE "xuegong_topology"'))
    except Exception as exc:  # no PostgreSQL here
        if _required():
            pytest.fail(f"PostgreSQL is required for the topology test: {exc}")
        pytest.skip(f"PostgreSQL is not reachable: {exc.__class__.__name__}")
    finally:
        admin.dispose()
    url = target.render_as_string(hide_password=False)
    upgrade(url)
    engine = make_engine(url)
    demo.load(engine, size="small", seed=1)
    engine.dispose()
    return url


class Process:
    """A child process with its log; stopped at the end, killed with pytest if it dies."""

    def __init__(self, command: list[str], env: dict[str, str], log: Path):
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                command, cwd=PROJECT_DIR, env=env, stdout=out, stderr=subprocess.STDOUT,
                preexec_fn=_die_with_pytest,
            )  # fmt: skip

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-40:])


def _wait_until(url: str, process: Process, *, context=None) -> None:
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.process.poll() is not None:
            pytest.fail(f"{url}: the process exited:\n{process.tail()}")
        try:
            with opener.open(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    pytest.fail(f"{url} did not answer within {START_TIMEOUT_S} s:\n{process.tail()}")


def _certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def _nginx_conf(folder: Path, port: int, upstreams: list[int], cert: Path, key: Path) -> Path:
    """The reverse proxy of docs/deploy.md, in a folder of its own."""
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / sub).mkdir(exist_ok=True)
    servers = "\n".join(f"server {HOST}:{p};" for p in upstreams)
    conf = folder / "nginx.conf"
    conf.write_text(
        textwrap.dedent(f"""\
        daemon off;
        master_process on;
        worker_processes 1;
        user root;
        pid {folder}/nginx.pid;
        error_log {folder}/error.log warn;
        events {{ worker_connections 256; }}
        http {{
            access_log {folder}/access.log;
            client_body_temp_path {folder}/body;
            proxy_temp_path {folder}/proxy;
            fastcgi_temp_path {folder}/fastcgi;
            uwsgi_temp_path {folder}/uwsgi;
            scgi_temp_path {folder}/scgi;
            upstream xuegong {{ {servers} }}
            server {{
                listen {HOST}:{port} ssl;
                ssl_certificate {cert};
                ssl_certificate_key {key};
                client_max_body_size 12m;
                gzip on;
                gzip_types text/css application/javascript application/json;
                location / {{
                    proxy_pass http://xuegong;
                    proxy_set_header Host $http_host;
                    proxy_set_header X-Forwarded-For $remote_addr;
                    proxy_set_header X-Forwarded-Proto $scheme;
                }}
            }}
        }}
        """)
    )
    return conf


@pytest.fixture(scope="module")
def behind_the_proxy(topology_database, tmp_path_factory):
    """nginx (TLS) on a free port, two `xuegong run` processes behind it; yields (url, env)."""
    if not Path(NGINX).exists():
        if _required():
            pytest.fail("nginx is required for the topology test (apt-get install nginx-light)")
        pytest.skip("nginx is not installed (apt-get install nginx-light)")
    folder = tmp_path_factory.mktemp("topology")
    cert, key = _certificate(folder)
    port, app_ports = free_port(), [free_port(), free_port()]
    public = f"https://{HOST}:{port}"
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("XUEGONG_")}
    env = {
        **inherited,
        "XUEGONG_ENV": "production",
        "XUEGONG_DATABASE_URL": topology_database,
        "XUEGONG_SECRET_KEYS": TEST_SECRET,
        "XUEGONG_BASE_URL": public,
        "XUEGONG_TRUSTED_PROXIES": HOST,
        "XUEGONG_VAR_DIR": str(folder / "var"),
        "HOST": HOST,
        "NO_PROXY": HOST,
        "no_proxy": HOST,
    }
    apps = [
        Process([sys.executable, "-m", "server.cli", "run"], {**env, "PORT": str(p)},
                folder / f"app-{p}.log")
        for p in app_ports
    ]  # fmt: skip
    proxy = None
    try:
        for app, p in zip(apps, app_ports, strict=True):
            _wait_until(f"http://{HOST}:{p}/healthz", app)
        conf = _nginx_conf(folder, port, app_ports, cert, key)
        proxy = Process([NGINX, "-p", str(folder), "-c", str(conf)], env, folder / "nginx.out")
        import ssl

        unverified = ssl.create_default_context()
        unverified.check_hostname, unverified.verify_mode = False, ssl.CERT_NONE
        _wait_until(f"{public}/healthz", proxy, context=unverified)
        yield public, env, apps
    finally:
        if proxy is not None:
            proxy.stop()
        for app in apps:
            app.stop()


def _labels(env: dict[str, str]) -> list[dict[str, str]]:
    import csv
    import io

    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "labels", "--csv"],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return list(csv.DictReader(io.StringIO(done.stdout)))


def test_the_offline_round_through_https_and_two_app_processes_stores_each_visit_once(
    behind_the_proxy, browser_type, topology_database
):
    public, env, apps = behind_the_proxy
    sessionmaker = make_sessionmaker(make_engine(topology_database))
    labels = _labels(env)
    assert labels and all(row["url"].startswith(f"{public}/d/") for row in labels)

    browser = browser_type.launch(
        executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, "--ignore-certificate-errors"]
    )
    try:
        context = browser.new_context(
            base_url=public, ignore_https_errors=True, service_workers="allow",
            viewport={"width": 390, "height": 844}, locale="zh-CN", timezone_id="Asia/Shanghai",
        )  # fmt: skip
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
        with sessionmaker() as db:
            author_id = user_named(db, "counselor1").id
            rooms = rooms_to_visit(db, "counselor1", 2)
            visits = {talk_for(room): room for room in rooms}

            log_in(page, "counselor1")
            wait_for_worker(page)
            prepare_for_rounds(page)
            context.set_offline(True)
            for talk, room in visits.items():
                (url,) = [r["url"] for r in labels
                          if (r["building"], r["room"]) == (room.building, room.number)]  # fmt: skip
                save_visit_offline(page, url, talk)
            page.goto("/outbox")
            expect(badge(page)).to_have_attribute("data-count", "2")

            context.set_offline(False)
            page.evaluate("window.dispatchEvent(new Event('online'))")
            assert_arrived_once(db, author_id, visits)
            expect(badge(page)).to_have_attribute("data-count", "0", timeout=30_000)
        assert not errors, errors
        # both processes served the round: nginx spreads the requests over the upstreams
        served = [app.log.read_text(errors="replace").count('"GET ') for app in apps]
        assert all(n > 0 for n in served), served
        context.close()
    finally:
        browser.close()
        sessionmaker.kw["bind"].dispose()
