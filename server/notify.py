"""Notifications of escalations (关注上报): an outbox table, sent by e-mail and webhook.

- `queue` writes a row in the transaction that opens an escalation (server/entries.py), so
  a save never waits for a mail server and never fails because of one;
- `queue_overdue` writes one for each escalation left 待确认 longer than
  XUEGONG_ESCALATION_ACK_HOURS (once per escalation: a conditional UPDATE claims it);
- `run_pass` (the `xuegong notify` command, or the app's loop when
  XUEGONG_NOTIFY_LOOP_SECONDS > 0) claims due rows and sends them. A row is claimed by a
  conditional UPDATE of `claimed_until` (on PostgreSQL after `SELECT … FOR UPDATE SKIP
  LOCKED`, so concurrent passes take different rows; SQLite serialises writers), so with
  several processes each notification goes out once. Each channel is marked sent on its
  own; a failure is retried with back-off (1, 2, 4 … minutes, at most an hour) up to
  MAX_ATTEMPTS times.

Messages name no student and no concern: only "新的关注上报，请登录学工随行查看" (or 超时未确认),
the department and the time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import smtplib
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from server import clock
from server.models import Department, Escalation, Notification
from server.settings import Settings

log = logging.getLogger("xuegong.notify")

MAX_ATTEMPTS = 10
CLAIM = timedelta(minutes=5)  # a pass that dies while sending frees its rows after this
BATCH = 50
TIMEOUT = 10  # seconds for the mail server and the webhook
OPENED = "新的关注上报，请登录学工随行查看"
OVERDUE = "超时未确认：关注上报，请登录学工随行查看"


def now() -> datetime:
    return datetime.now(UTC)


def queue(db: Session, escalation: Escalation, event: str) -> Notification:
    """A notification of `event` (opened, overdue), in the caller's transaction."""
    row = Notification(**_fields(db, escalation.id, escalation.department_id, event))
    db.add(row)
    return row


def _department_name(db: Session, department_id: int | None) -> str:
    if department_id is None:
        return ""
    from server.entries import remembered  # a batch opens several: looked up once

    return remembered(
        db,
        ("department_name", department_id),
        lambda: db.connection().scalar(_DEPARTMENT_NAME, {"id": department_id}) or "",
    )


_DEPARTMENT_NAME = select(Department.name).where(Department.id == bindparam("id"))


def queue_new(db: Session, escalation_id: int, department_id: int | None, event: str) -> None:
    """`queue` as one plain insert, for an escalation just inserted the same way: the
    department's name is read by the insert itself (on PostgreSQL a round trip less)."""
    at = now()
    db.connection().execute(
        _NEW_NOTIFICATION,
        {"escalation_id": escalation_id, "event": event, "department_id": department_id,
         "created_at": at, "status": "pending", "attempts": 0, "next_attempt_at": at,
         "last_error": ""},
    )  # fmt: skip


_NEW_NOTIFICATION = insert(Notification.__table__).values(
    department_name=func.coalesce(
        select(Department.name)
        .where(Department.id == bindparam("department_id"))
        .scalar_subquery(),
        "",
    )
)


def _fields(db: Session, escalation_id: int, department_id: int | None, event: str) -> dict:
    at = now()
    return {
        "escalation_id": escalation_id, "event": event,
        "department_name": _department_name(db, department_id), "created_at": at,
        "status": "pending", "attempts": 0, "next_attempt_at": at, "last_error": "",
    }  # fmt: skip


def queue_overdue(db: Session, hours: int, at: datetime | None = None) -> int:
    """Queue the overdue notice of each escalation waiting for 确认 too long; commits."""
    at = at or now()
    waiting = db.scalars(
        select(Escalation.id).where(
            Escalation.status == "open",
            Escalation.state == "pending",
            Escalation.created_at < at - timedelta(hours=hours),
            Escalation.overdue_notified_at.is_(None),
        )
    ).all()
    queued = 0
    for escalation_id in waiting:
        claimed = db.execute(
            update(Escalation)
            .where(Escalation.id == escalation_id, Escalation.overdue_notified_at.is_(None))
            .values(overdue_notified_at=at)
        )
        if claimed.rowcount == 1:
            queue(db, db.get(Escalation, escalation_id), "overdue")
            queued += 1
    db.commit()
    return queued


def message(row: Notification) -> str:
    head = OVERDUE if row.event == "overdue" else OPENED
    return f"{head}\n系部：{row.department_name or '未分系部'}\n时间：{clock.local_time(row.created_at)}"


def backoff(attempts: int) -> timedelta:
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


@dataclass
class Outcome:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    overdue_queued: int = 0
    errors: list[str] = field(default_factory=list)


def _claim(db: Session, at: datetime) -> list[int]:
    free = or_(Notification.claimed_until.is_(None), Notification.claimed_until < at)
    due = (
        select(Notification.id)
        .where(Notification.status == "pending", Notification.next_attempt_at <= at, free)
        .order_by(Notification.id)
        .limit(BATCH)
    )
    if db.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    claimed = []
    for notification_id in db.scalars(due).all():
        result = db.execute(
            update(Notification)
            .where(Notification.id == notification_id, Notification.status == "pending", free)
            .values(claimed_until=at + CLAIM)
        )
        if result.rowcount == 1:
            claimed.append(notification_id)
    db.commit()
    return claimed


def run_pass(settings: Settings, sessions: sessionmaker[Session]) -> Outcome:
    """One pass: queue overdue notices, then send every due notification once."""
    outcome = Outcome()
    with sessions() as db:
        outcome.overdue_queued = queue_overdue(db, settings.escalation_ack_hours)
        claimed = [db.get(Notification, i) for i in _claim(db, now())]
        # no transaction stays open while a mail server or a webhook answers: on SQLite it
        # would hold the write lock that every save waits for
        db.commit()
        for row in claimed:
            _send_one(db, settings, row, outcome)
    return outcome


def _channels(settings: Settings) -> dict:
    channels = {}
    if settings.smtp_url and settings.notify_email_to:
        channels["email"] = send_email
    if settings.notify_webhook:
        channels["webhook"] = send_webhook
    return channels


def _send_one(db: Session, settings: Settings, row: Notification, outcome: Outcome) -> None:
    channels = _channels(settings)
    if not channels:
        row.status, row.last_error, row.claimed_until = "skipped", "没有配置通知渠道", None
        db.commit()
        outcome.skipped += 1
        return
    text = message(row)
    errors = []
    for name, send in channels.items():
        column = f"{name}_sent_at"
        if getattr(row, column) is not None:
            continue  # sent on an earlier attempt
        try:
            send(settings, text)
        except Exception as exc:  # any failure of a channel is retried later
            errors.append(f"{name}: {exc}")
            continue
        setattr(row, column, now())
        db.commit()  # a crash after this never sends the channel again
    if errors:
        row.attempts += 1
        row.last_error = "; ".join(errors)[:2000]
        row.next_attempt_at = now() + backoff(row.attempts)
        row.claimed_until = None
        if row.attempts >= MAX_ATTEMPTS:
            row.status = "failed"
        outcome.failed += 1
        outcome.errors += errors
        log.warning("notification %s not sent: %s", row.id, row.last_error)
    else:
        row.status, row.sent_at, row.claimed_until = "sent", now(), None
        outcome.sent += 1
    db.commit()


def send_email(settings: Settings, text: str) -> None:
    url = urlsplit(settings.smtp_url)
    tls = url.scheme == "smtps"
    port = url.port or (465 if tls else 25)
    mail = EmailMessage()
    mail["Subject"] = "学工随行：" + text.splitlines()[0]
    mail["From"] = settings.notify_email_from
    mail["To"] = ", ".join(settings.notify_email_to)
    mail.set_content(text)
    smtp = smtplib.SMTP_SSL if tls else smtplib.SMTP
    with smtp(url.hostname, port, timeout=TIMEOUT) as server:
        if url.username:
            server.login(unquote(url.username), unquote(url.password or ""))
        server.send_message(mail)


def send_webhook(settings: Settings, text: str) -> None:
    """WeCom / DingTalk group robots take {"msgtype": "text", "text": {"content": …}} and
    answer {"errcode": 0, …} when they took it."""
    body = json.dumps({"msgtype": "text", "text": {"content": text}}, ensure_ascii=False)
    request = urllib.request.Request(
        settings.notify_webhook, data=body.encode(), method="POST",
        headers={"Content-Type": "application/json; charset=utf-8"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 (configured URL)
        answer = response.read()
    try:
        parsed = json.loads(answer or b"{}")
    except ValueError:
        return  # a receiver that answers 2xx without JSON took it
    errcode = parsed.get("errcode", 0) if isinstance(parsed, dict) else 0
    if errcode not in (0, None):
        raise RuntimeError(f"webhook answered errcode {errcode}")


# --- the loop inside the app process (XUEGONG_NOTIFY_LOOP_SECONDS) ------------------------------


def start_loop(app) -> None:
    settings = app.state.settings
    if settings.notify_loop_seconds <= 0:
        return

    async def loop() -> None:
        while True:
            try:
                await asyncio.to_thread(run_pass, settings, app.state.write_sessionmaker)
            except Exception:  # the loop outlives a bad pass (database away, …)
                log.exception("notification pass failed")
            await asyncio.sleep(settings.notify_loop_seconds)

    app.state.notify_task = asyncio.get_running_loop().create_task(loop())


async def stop_loop(app) -> None:
    task = getattr(app.state, "notify_task", None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
