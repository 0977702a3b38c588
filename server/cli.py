"""`xuegong` console script: run the app, migrate, load demo data, print door labels, back up,
create the first admin and reset a password."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from server.settings import Settings, SettingsError

LOCAL_LABELS = (
    "the labels' address is this machine's own: phones cannot open it; "
    "set XUEGONG_BASE_URL to the address phones reach"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="xuegong", description="学工随行 command line")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("migrate", help="apply database migrations")

    run = sub.add_parser("run", help="serve the app (HOST/PORT from the environment)")
    run.add_argument("--workers", type=int, default=1)

    demo = sub.add_parser("demo", help="load deterministic demo data into an empty database")
    demo.add_argument("--size", choices=["small", "college"], default="small")
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--if-empty", action="store_true", help="do nothing when data exists")
    demo.add_argument(
        "--weeks", type=int, default=0, help="weeks of generated work records, up to today"
    )

    labels = sub.add_parser("labels", help="print door label URLs")
    labels.add_argument("--csv", action="store_true", required=True, help="building,room,url lines")
    labels.add_argument("--building", help="only this building (all when omitted)")

    backup = sub.add_parser("backup", help="write a backup of the database into DIR")
    backup.add_argument("directory", type=Path)

    restore = sub.add_parser("restore", help="load a backup into an empty database")
    restore.add_argument("file", type=Path)

    sub.add_parser("settings", help="list the environment variables the app reads")

    sub.add_parser("notify", help="one pass of the escalation notifications (e-mail, webhook)")

    _import_commands(sub)

    admin = sub.add_parser("create-admin", help="create an admin; prints a one-time password")
    admin.add_argument("username", help="工号, the login name")
    admin.add_argument("--name", required=True, help="姓名")
    admin.add_argument(
        "--password-file", type=Path, help="set this file's first line as the password instead"
    )

    reset = sub.add_parser("reset-password", help="issue a one-time password and print it")
    reset.add_argument("username")

    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"xuegong: bad setting: {exc}", file=sys.stderr)
        return 2
    return COMMANDS[args.command](settings, args)


def _migrate(settings: Settings, args) -> int:
    from server.db import upgrade

    upgrade(settings.database_url)
    return 0


def _run(settings: Settings, args) -> int:
    import uvicorn

    uvicorn.run(
        "server.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=args.workers,
        # by default uvicorn believes X-Forwarded-For (and -Proto) from 127.0.0.1: only the
        # proxies in XUEGONG_TRUSTED_PROXIES are believed, by uvicorn (the scheme, so the sync
        # endpoints' same-origin check sees https) and by the login count (server/auth.py)
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=",".join(settings.trusted_proxies) or None,
        log_level="info",
    )
    return 0


def _demo(settings: Settings, args) -> int:
    from server import demo

    return demo.command(
        settings, size=args.size, seed=args.seed, if_empty=args.if_empty, weeks=args.weeks
    )


def _labels(settings: Settings, args) -> int:
    """`xuegong labels --csv`: building,room,url for every room (of one building if named)."""
    import csv

    from server import doors
    from server.app import create_app
    from server.db import make_engine, make_sessionmaker

    app = create_app(settings)  # the door route's path comes from the app's URL builder
    engine = make_engine(settings.database_url)
    try:
        with make_sessionmaker(engine)() as db:
            rooms = doors.rooms_of(db, args.building)
            if args.building and not rooms:
                print(f"xuegong: no building named {args.building!r}", file=sys.stderr)
                return 1
            if settings.base_url_is_local:
                print(f"xuegong: warning: {LOCAL_LABELS} ({settings.base_url})", file=sys.stderr)
            out = csv.writer(sys.stdout, lineterminator="\n")
            out.writerow(["building", "room", "url"])
            for room in rooms:
                path = app.route_reverse("door", token=doors.room_token(settings, room))
                out.writerow([room.building.name, room.number, doors.door_url(settings, path)])
    finally:
        engine.dispose()
    return 0


def _backup(settings: Settings, args) -> int:
    from server.backup import BackupError, backup

    try:
        written = backup(settings.database_url, args.directory)
    except BackupError as exc:
        print(f"xuegong: {exc}", file=sys.stderr)
        return 1
    print(written)
    return 0


def _restore(settings: Settings, args) -> int:
    from server.backup import BackupError, restore

    try:
        restore(settings.database_url, args.file)
    except BackupError as exc:
        print(f"xuegong: {exc}", file=sys.stderr)
        return 1
    print(f"restored {args.file}")
    return 0


def _settings(settings: Settings, args) -> int:
    for env, help, default in Settings.documented():
        print(f"{env:30} {help}" + (f" (default {default})" if default else ""))
    return 0


# --- bringing the college in (server/college_import/)


def _import_commands(sub) -> None:
    template = sub.add_parser("import-template", help="write the empty import workbook")
    template.add_argument("file", help="where to write it, e.g. 导入模板.xlsx")
    imp = sub.add_parser(
        "import",
        help="import a workbook (.xlsx) or one sheet (.csv): prints the preview; exit 0 applied,"
        " 1 row errors (nothing applied), 2 unreadable",
    )
    imp.add_argument("file")
    imp.add_argument("--dry-run", action="store_true", help="check and print, write nothing")
    imp.add_argument("--sheet", help="which sheet a .csv holds (default: from its file name)")


def _import_template(settings: Settings, args) -> int:
    from pathlib import Path

    from server.college_import import template

    Path(args.file).write_bytes(template())
    print(f"wrote {args.file}")
    return 0


def _import(settings: Settings, args) -> int:
    from pathlib import Path

    from server.college_import import MAX_BYTES, Unreadable, import_workbook
    from server.db import make_engine, make_sessionmaker

    path = Path(args.file)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise Unreadable(f"文件超过 {MAX_BYTES // (1024 * 1024)} MB，请拆分后分批导入。")
        content = path.read_bytes()
    except OSError as exc:
        print(f"xuegong import: 无法打开文件 {path}：{exc.strerror}", file=sys.stderr)
        return 2
    except Unreadable as exc:
        print(f"xuegong import: {exc}", file=sys.stderr)
        return 2

    stages: list[str] = []

    def progress(stage: str, fraction: float) -> None:
        if stage not in stages:  # one line per stage: 检查…, 写入…
            stages.append(stage)
            print(f"{stage}…", file=sys.stderr, flush=True)

    engine = make_engine(settings.database_url)
    try:
        with make_sessionmaker(engine)() as db:
            result = import_workbook(
                db, content, path.name, sheet=args.sheet, dry_run=args.dry_run, progress=progress
            )
    except Unreadable as exc:
        print(f"xuegong import: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    print(_preview_text(result.preview))
    if result.preview.errors:
        print(f"有 {len(result.preview.errors)} 处错误：没有写入任何数据。")
        return 1
    print("已导入。" if result.applied else "检查通过（--dry-run：没有写入）。")
    return 0


def _preview_text(preview) -> str:
    lines = []
    for s in preview.sheets:
        lines.append(f"{s.name}：新增 {s.new}，修改 {s.changed}，不变 {s.unchanged}")
        for change in s.changes:
            fields = "；".join(
                f"{f}：{old or '（空）'} → {new or '（空）'}" for f, old, new in change["fields"]
            )
            lines.append(f"  第 {change['row']} 行 {change['key']}：{fields}")
    if preview.ignored:
        lines.append("已忽略的工作表：" + "、".join(preview.ignored))
    for e in preview.errors:
        where = f"第 {e.row} 行" if e.row else "表头"
        lines.append(f"错误 {e.sheet} {where} {e.column}：{e.message}")
    return "\n".join(lines)


def _create_admin(settings: Settings, args) -> int:
    """Exit 0 created, 1 refused (the name is taken, a bad field or password), 2 unreadable file."""
    from server import accounts, auth
    from server.models import Role

    password = None
    if args.password_file is not None:
        try:
            lines = args.password_file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            print(f"xuegong: cannot read {args.password_file}: {exc}", file=sys.stderr)
            return 2
        password = lines[0] if lines else ""
    with _database(settings) as db:
        try:
            form = accounts.AccountForm(
                name=accounts.parse_name(args.name),
                department_id=None,
                roles=frozenset([Role.admin]),
                phone=None,
            )
            user, one_time = accounts.create_account(db, args.username, form)
            if password is not None:
                if problem := accounts.password_problem(user, password):
                    raise accounts.AccountRefused(problem)
                # the operator chose this password: it is the admin's own, no forced change
                user.password_hash = auth.hash_password(password)
                user.must_change_password = False
        except accounts.AccountRefused as exc:
            print(f"xuegong: {exc}", file=sys.stderr)
            return 1
        db.commit()
    if password is not None:
        print(f"created admin {user.username} with the password from {args.password_file}")
    else:
        print(f"created admin {user.username}; log in with this one-time password, then set one:")
        print(one_time)
    return 0


def _reset_password(settings: Settings, args) -> int:
    """Exit 0 issued, 1 no such account."""
    from sqlalchemy import select

    from server import accounts
    from server.models import User

    with _database(settings) as db:
        user = db.scalar(select(User).where(User.username == args.username.strip()))
        if user is None:
            print(f"xuegong: no account {args.username!r}", file=sys.stderr)
            return 1
        one_time = accounts.issue_one_time_password(db, user)
        db.commit()
    note = "" if user.active else " (the account is disabled: enable it on /admin/accounts)"
    print(f"one-time password for {user.username}, logged out everywhere{note}:\n{one_time}")
    return 0


@contextlib.contextmanager
def _database(settings: Settings):
    from server.db import make_engine, make_sessionmaker

    engine = make_engine(settings.database_url)
    try:
        with make_sessionmaker(engine)() as db:
            yield db
    finally:
        engine.dispose()


def _notify(settings: Settings, args) -> int:
    """One pass of the notifications outbox (server/notify.py); a systemd timer runs it every
    minute (docs/deploy.md). Exit 0 when nothing failed, 1 when a send failed (retried later)."""
    from server import notify
    from server.db import make_engine, make_sessionmaker, writing

    engine = make_engine(settings.database_url)
    try:
        outcome = notify.run_pass(settings, make_sessionmaker(writing(engine)))
    finally:
        engine.dispose()
    print(
        f"notify: {outcome.sent} sent, {outcome.failed} failed (retried later), "
        f"{outcome.skipped} without a channel, {outcome.overdue_queued} overdue queued"
    )
    for error in outcome.errors:
        print(f"  {error}", file=sys.stderr)
    return 1 if outcome.failed else 0


COMMANDS = {
    "create-admin": _create_admin,
    "reset-password": _reset_password,
    "migrate": _migrate,
    "run": _run,
    "demo": _demo,
    "labels": _labels,
    "backup": _backup,
    "restore": _restore,
    "settings": _settings,
    "import-template": _import_template,
    "import": _import,
    "notify": _notify,
}

if __name__ == "__main__":
    sys.exit(main())
