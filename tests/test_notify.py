"""Escalation notifications (server/notify.py): queued with the save, sent by `xuegong notify`
to a local SMTP server (aiosmtpd) and a local HTTP receiver started here, each exactly once —
also with two `xuegong notify` processes at the same time — retried with back-off after a
failure, and naming no student and no concern."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import delete, select, update

from server import notify
from server.db import make_engine, make_sessionmaker, writing
from server.models import Entry, EntryRevision, Escalation, Notification, SensitiveRead
from server.settings import PROJECT_DIR
from tests.test_escalations import referral_talk


class Mailbox:
    def __init__(self):
        self.messages: list[str] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        with self.lock:
            self.messages.append(envelope.content.decode("utf-8", "replace"))
        return "250 OK"


@pytest.fixture(scope="module")
def smtp():
    mailbox = Mailbox()
    with socket.socket() as probe:  # a free port (aiosmtpd's start-up check cannot use 0)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    mailbox.url = f"smtp://127.0.0.1:{port}"
    yield mailbox
    controller.stop()


class Receiver(ThreadingHTTPServer):
    def __init__(self):
        self.calls: list[dict] = []
        self.failing = False
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), Hook)


class Hook(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.server.failing:
            self.send_response(500)
            self.end_headers()
            return
        with self.server.lock:
            self.server.calls.append(json.loads(body))
        answer = b'{"errcode":0,"errmsg":"ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def webhook():
    receiver = Receiver()
    thread = threading.Thread(target=receiver.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{receiver.server_address[1]}/robot/send?key=test"
    yield receiver
    receiver.shutdown()


@pytest.fixture
def channels(settings, smtp, webhook):
    """Settings that send to the local receivers; what other tests queued is cleared first,
    and the receivers start empty."""
    with make_sessionmaker(writing(make_engine(settings.database_url)))() as db:
        db.execute(update(Notification).where(Notification.status == "pending")
                   .values(status="skipped"))  # fmt: skip
        db.commit()
    smtp.messages.clear()
    webhook.calls.clear()
    webhook.failing = False
    return replace(
        settings, smtp_url=smtp.url, notify_email_to=("office@college.test",),
        notify_webhook=webhook.url,
    )  # fmt: skip


@pytest.fixture
def writer(settings):
    engine = make_engine(settings.database_url)
    yield make_sessionmaker(writing(engine))
    engine.dispose()


@pytest.fixture
def made(sessionmaker):
    entries = []
    yield entries
    with sessionmaker() as db:
        db.execute(delete(Escalation).where(Escalation.entry_id.in_(entries)))
        db.execute(delete(SensitiveRead).where(SensitiveRead.entry_id.in_(entries)))
        db.execute(delete(EntryRevision).where(EntryRevision.entry_id.in_(entries)))
        db.execute(delete(Entry).where(Entry.id.in_(entries)))
        db.commit()


def _referral(db, made, summary="情绪低落，建议转介"):
    escalation, student = referral_talk(db, summary=summary)
    made.append(escalation.entry_id)
    return escalation, student


def test_a_new_escalation_is_mailed_and_posted_once_and_names_no_student(
    channels, writer, db, made, smtp, webhook
):
    escalation, student = _referral(db, made, summary="自述失眠，想轻生")
    outcome = notify.run_pass(channels, writer)
    assert outcome.sent == 1 and outcome.failed == 0
    assert len(smtp.messages) == 1 and len(webhook.calls) == 1
    call = webhook.calls[0]
    assert call["msgtype"] == "text"
    text = call["text"]["content"]
    assert text.startswith("新的关注上报，请登录学工随行查看") and "信息工程系" in text
    mail = smtp.messages[0]
    for message in (text, mail):
        assert student.name not in message and "失眠" not in message and "心理" not in message
    # a second pass sends nothing again
    assert notify.run_pass(channels, writer).sent == 0
    assert len(smtp.messages) == 1 and len(webhook.calls) == 1
    db.expire_all()
    row = db.scalar(select(Notification).where(Notification.escalation_id == escalation.id))
    assert row.status == "sent" and row.email_sent_at and row.webhook_sent_at


def test_a_failed_send_is_retried_with_back_off_and_the_other_channel_not_resent(
    channels, writer, db, made, smtp, webhook
):
    escalation, _ = _referral(db, made)
    webhook.failing = True
    outcome = notify.run_pass(channels, writer)
    assert outcome.failed == 1 and len(smtp.messages) == 1 and webhook.calls == []
    db.expire_all()
    row = db.scalar(select(Notification).where(Notification.escalation_id == escalation.id))
    assert row.status == "pending" and row.attempts == 1 and row.email_sent_at
    assert row.next_attempt_at > datetime.now(UTC) + timedelta(seconds=30)
    webhook.failing = False
    assert notify.run_pass(channels, writer).sent == 0  # not due yet: back-off
    db.execute(update(Notification).where(Notification.id == row.id)
               .values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1)))  # fmt: skip
    db.commit()
    assert notify.run_pass(channels, writer).sent == 1
    assert len(smtp.messages) == 1 and len(webhook.calls) == 1  # the e-mail went once


def test_back_off_doubles_up_to_an_hour_and_gives_up_after_max_attempts():
    assert [notify.backoff(n).total_seconds() / 60 for n in (1, 2, 3, 7, 20)] == [1, 2, 4, 60, 60]
    assert notify.MAX_ATTEMPTS >= 5


def test_an_escalation_left_unacknowledged_is_notified_overdue_once(
    channels, writer, db, made, smtp, webhook
):
    escalation, _ = _referral(db, made)
    notify.run_pass(channels, writer)  # the opening notice
    db.execute(update(Escalation).where(Escalation.id == escalation.id)
               .values(created_at=datetime.now(UTC) - timedelta(hours=3)))  # fmt: skip
    db.commit()
    webhook.calls.clear()
    outcome = notify.run_pass(channels, writer)
    assert outcome.overdue_queued >= 1
    overdue = [c for c in webhook.calls if c["text"]["content"].startswith("超时未确认")]
    assert len(overdue) == outcome.overdue_queued
    assert notify.run_pass(channels, writer).overdue_queued == 0


def test_no_channel_configured_leaves_nothing_pending(settings, writer, db, made):
    escalation, _ = _referral(db, made)
    quiet = replace(settings, smtp_url="", notify_email_to=(), notify_webhook="")
    assert notify.run_pass(quiet, writer).skipped >= 1
    db.expire_all()
    row = db.scalar(select(Notification).where(Notification.escalation_id == escalation.id))
    assert row.status == "skipped"


def test_two_notify_processes_at_once_send_each_notification_exactly_once(
    channels, db, made, smtp, webhook
):
    for n in range(6):
        _referral(db, made, summary=f"并发测试 {n}")
    env = {
        **os.environ,
        "XUEGONG_DATABASE_URL": channels.database_url,
        "XUEGONG_SECRET_KEYS": channels.secret_keys[0],
        "XUEGONG_VAR_DIR": str(channels.var_dir),
        "XUEGONG_SMTP_URL": channels.smtp_url,
        "XUEGONG_NOTIFY_EMAIL_TO": "office@college.test",
        "XUEGONG_NOTIFY_WEBHOOK": channels.notify_webhook,
    }
    command = [sys.executable, "-m", "server.cli", "notify"]
    runs = [subprocess.Popen(command, env=env, cwd=PROJECT_DIR, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]  # fmt: skip
    results = [run.communicate(timeout=120) for run in runs]
    assert all(run.returncode == 0 for run in runs), results
    opened = [c for c in webhook.calls if c["text"]["content"].startswith(notify.OPENED)]
    mails = [m for m in smtp.messages if notify.OPENED[:4] in _subject(m)]
    assert len(opened) == 6 and len(mails) == 6, results
    db.expire_all()
    ids = [e for e in made]
    sent = db.scalars(
        select(Notification.status)
        .join(Escalation, Notification.escalation_id == Escalation.id)
        .where(Escalation.entry_id.in_(ids))
    ).all()
    assert sent == ["sent"] * 6


def test_bad_notification_settings_name_their_variable(tmp_path):
    from server.settings import Settings, SettingsError

    for env, value in [("XUEGONG_SMTP_URL", "mail.college"), ("XUEGONG_NOTIFY_WEBHOOK", "ftp://x"),
                       ("XUEGONG_ESCALATION_ACK_HOURS", "0"), ("XUEGONG_NOTIFY_EMAIL_TO", "office"),
                       ("XUEGONG_NOTIFY_LOOP_SECONDS", "-1")]:  # fmt: skip
        with pytest.raises(SettingsError, match=env):
            Settings.from_env(environ={"XUEGONG_VAR_DIR": str(tmp_path), env: value})


@pytest.mark.slow
def test_two_app_processes_with_the_loop_send_each_notification_exactly_once(
    channels, settings, db, made, smtp, webhook, tmp_path
):
    """XUEGONG_NOTIFY_LOOP_SECONDS: each app process runs passes itself; with two of them,
    every notification still arrives once per channel."""
    from tests.browser.conftest import LiveServer, free_port

    servers = []
    for n in range(2):
        server = LiveServer(settings, free_port(), tmp_path / f"app{n}.log")
        server.env |= {
            "XUEGONG_SMTP_URL": channels.smtp_url,
            "XUEGONG_NOTIFY_EMAIL_TO": "office@college.test",
            "XUEGONG_NOTIFY_WEBHOOK": channels.notify_webhook,
            "XUEGONG_NOTIFY_LOOP_SECONDS": "1",
        }
        servers.append(server)
    try:
        for server in servers:
            server.start()
        for n in range(4):
            _referral(db, made, summary=f"两个进程 {n}")

        def all_sent():
            db.expire_all()
            statuses = db.scalars(
                select(Notification.status)
                .join(Escalation, Notification.escalation_id == Escalation.id)
                .where(Escalation.entry_id.in_(made))
            ).all()
            return len(statuses) == 4 and set(statuses) == {"sent"}

        deadline = datetime.now(UTC) + timedelta(seconds=90)  # two CPUs shared by several runs
        while not all_sent():
            assert datetime.now(UTC) < deadline, [s.log_tail() for s in servers]
            threading.Event().wait(0.2)
    finally:
        for server in servers:
            server.stop()
    # an overdue notice of another module's escalation may go out too: count the openings
    opened = [c for c in webhook.calls if c["text"]["content"].startswith(notify.OPENED)]
    mails = [m for m in smtp.messages if notify.OPENED[:4] in _subject(m)]
    assert len(opened) == 4 and len(mails) == 4, (webhook.calls, smtp.messages)


def _subject(mail: str) -> str:
    from email import message_from_string
    from email.header import decode_header, make_header

    return str(make_header(decode_header(message_from_string(mail)["Subject"])))
