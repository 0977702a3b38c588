"""Settings: one typed object read from the environment.

Every field names its environment variable and says in one line what it is for; README.md
lists the same variables (tests/test_settings.py fails when one is missing there). A bad
value stops start-up with a message that names the variable.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_DIR = Path(__file__).resolve().parent.parent
TIMEZONE = "Asia/Shanghai"  # the college's clock: "today", weeks and duty windows use it


class SettingsError(Exception):
    """A setting has a value the app cannot run with."""


def setting(env: str, help: str, default: str | None = None):
    return field(default=None, metadata={"env": env, "help": help, "default": default})


@dataclass(frozen=True)
class Settings:
    environment: str = setting(
        "XUEGONG_ENV",
        "development or production; production refuses to start without secret keys",
        "development",
    )
    database_url: str = setting(
        "XUEGONG_DATABASE_URL",
        "SQLAlchemy URL; SQLite file under var/ by default, postgresql+psycopg://… in production",
    )
    secret_keys: tuple[str, ...] = setting(
        "XUEGONG_SECRET_KEYS",
        "comma-separated secret keys, newest first; older keys still verify door labels, sessions use the newest only",
    )
    base_url: str = setting(
        "XUEGONG_BASE_URL",
        "public address printed into door QR labels; unset: http://HOST:PORT",
    )
    host: str = setting("HOST", "address `make run` listens on", "127.0.0.1")
    port: int = setting("PORT", "port `make run` listens on", "8000")
    debug: bool = setting(
        "XUEGONG_DEBUG", "1 shows Litestar's debug pages; never in production", "0"
    )
    var_dir: Path = setting(
        "XUEGONG_VAR_DIR",
        "folder for the SQLite file and the generated development key",
        "var",
    )
    photo_dir: Path = setting(
        "XUEGONG_PHOTO_DIR",
        "folder for the photos kept with records (evidence); unset: photos/ under the var folder",
    )
    login_max_failures: int = setting(
        "XUEGONG_LOGIN_MAX_FAILURES",
        "failed logins per account and address before each further try waits (30 s, doubling)",
        "5",
    )
    trusted_proxies: tuple[str, ...] = setting(
        "XUEGONG_TRUSTED_PROXIES",
        "comma-separated addresses or networks of reverse proxies whose X-Forwarded-For is believed",
        "",
    )
    escalation_ack_hours: int = setting(
        "XUEGONG_ESCALATION_ACK_HOURS",
        "hours an escalation (关注上报) may wait for 确认 before it is marked overdue and notified",
        "2",
    )
    smtp_url: str = setting(
        "XUEGONG_SMTP_URL",
        "mail server for escalation notifications: smtp://[user:pass@]host:port (smtps:// for TLS); unset: no e-mail",
        "",
    )
    notify_email_to: tuple[str, ...] = setting(
        "XUEGONG_NOTIFY_EMAIL_TO",
        "comma-separated addresses that receive escalation e-mails (the office's mailbox)",
        "",
    )
    notify_email_from: str = setting(
        "XUEGONG_NOTIFY_EMAIL_FROM", "sender address of escalation e-mails", "xuegong@localhost"
    )
    notify_webhook: str = setting(
        "XUEGONG_NOTIFY_WEBHOOK",
        "chat-robot webhook URL (WeCom / DingTalk group robot, JSON text message); unset: none",
        "",
    )
    notify_loop_seconds: int = setting(
        "XUEGONG_NOTIFY_LOOP_SECONDS",
        "seconds between notification passes run inside the app process; 0: only `xuegong notify` sends",
        "0",
    )

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @property
    def base_url_is_local(self) -> bool:
        """Labels printed with this address open only on this machine, never on a phone."""
        host = urlsplit(self.base_url).hostname or ""
        return host in ("localhost", "0.0.0.0", "::1", "::") or host.startswith("127.")

    @property
    def proxy_networks(self) -> list:
        return [ipaddress.ip_network(p) for p in self.trusted_proxies]

    @property
    def secure_cookies(self) -> bool:
        # behind HTTPS the browser must only send the session over TLS
        return urlsplit(self.base_url).scheme == "https"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> Settings:
        env = dict(os.environ if environ is None else environ)
        raw = {f.name: env.get(f.metadata["env"], f.metadata["default"]) for f in fields(cls)}
        raw.update({k: v for k, v in overrides.items() if v is not None})
        return cls._parse(raw)

    @classmethod
    def _parse(cls, raw: dict) -> Settings:
        def fail(name: str, why: str):
            env = next(f.metadata["env"] for f in fields(cls) if f.name == name)
            raise SettingsError(f"{env}: {why}")

        environment = raw["environment"]
        if environment not in ("development", "production"):
            fail("environment", f"must be development or production, not {environment!r}")

        var_dir = Path(raw["var_dir"])
        if not var_dir.is_absolute():
            var_dir = PROJECT_DIR / var_dir

        photo_dir = Path(raw["photo_dir"] or var_dir / "photos")
        if not photo_dir.is_absolute():
            photo_dir = PROJECT_DIR / photo_dir

        database_url = raw["database_url"] or f"sqlite:///{var_dir / 'xuegong.sqlite3'}"
        if not database_url.startswith(("sqlite", "postgresql")):
            fail("database_url", "only sqlite:/// and postgresql+psycopg:// URLs are supported")

        keys = raw["secret_keys"]
        if isinstance(keys, str):
            keys = tuple(k.strip() for k in keys.split(",") if k.strip())
        if not keys:
            if environment == "production":
                fail("secret_keys", "production needs at least one secret key")
            keys = (_development_key(var_dir),)
        if any(len(k) < 16 for k in keys):
            fail("secret_keys", "each key needs at least 16 characters")

        def integer(name: str) -> int:
            try:
                return int(raw[name])
            except (TypeError, ValueError):
                fail(name, f"must be a whole number, not {raw[name]!r}")

        # unset, labels carry the address the app listens on (`make run PORT=8080` included)
        base_url = str(raw["base_url"] or f"http://{raw['host']}:{integer('port')}").rstrip("/")
        if urlsplit(base_url).scheme not in ("http", "https"):
            fail("base_url", f"must start with http:// or https://, not {base_url!r}")

        debug = str(raw["debug"]).lower()
        if debug not in ("0", "1", "true", "false", ""):
            fail("debug", f"must be 0 or 1, not {raw['debug']!r}")

        proxies = raw["trusted_proxies"] or ()
        if isinstance(proxies, str):
            try:
                proxies = tuple(
                    str(ipaddress.ip_network(p.strip(), strict=False))
                    for p in proxies.split(",")
                    if p.strip()
                )
            except ValueError as exc:
                fail("trusted_proxies", f"not an address or network: {exc}")

        for name in ("smtp_url", "notify_webhook"):
            value = str(raw[name] or "")
            schemes = ("smtp", "smtps") if name == "smtp_url" else ("http", "https")
            if value and (urlsplit(value).scheme not in schemes or not urlsplit(value).hostname):
                fail(name, f"must be a {' or '.join(s + '://' for s in schemes)} URL, not {value!r}")
        if integer("escalation_ack_hours") < 1:
            fail("escalation_ack_hours", "must be at least 1")
        if integer("notify_loop_seconds") < 0:
            fail("notify_loop_seconds", "must be 0 (off) or a number of seconds")
        email_to = raw["notify_email_to"] or ()
        if isinstance(email_to, str):
            email_to = tuple(a.strip() for a in email_to.split(",") if a.strip())
        if any("@" not in a for a in email_to):
            fail("notify_email_to", "each address needs an @")

        return cls(
            environment=environment,
            database_url=database_url,
            secret_keys=tuple(keys),
            base_url=base_url,
            host=str(raw["host"]),
            port=integer("port"),
            debug=debug in ("1", "true"),
            var_dir=var_dir,
            photo_dir=photo_dir,
            login_max_failures=integer("login_max_failures"),
            trusted_proxies=tuple(proxies),
            escalation_ack_hours=integer("escalation_ack_hours"),
            smtp_url=str(raw["smtp_url"] or ""),
            notify_email_to=tuple(email_to),
            notify_email_from=str(raw["notify_email_from"] or "xuegong@localhost"),
            notify_webhook=str(raw["notify_webhook"] or ""),
            notify_loop_seconds=integer("notify_loop_seconds"),
        )

    @classmethod
    def documented(cls) -> list[tuple[str, str, str | None]]:
        """(environment variable, help, default) for each setting: README and `xuegong settings`."""
        return [(f.metadata["env"], f.metadata["help"], f.metadata["default"]) for f in fields(cls)]


def _development_key(var_dir: Path) -> str:
    """A key generated once per checkout and kept under var/, so labels and logins survive restarts."""
    path = var_dir / "secret_key"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()
