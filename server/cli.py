"""`xuegong` console script: run the app, migrate, load demo data, print door labels, back up."""

from __future__ import annotations

import argparse
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

    _import_commands(sub)

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
        proxy_headers=True,
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


COMMANDS = {
    "migrate": _migrate,
    "run": _run,
    "demo": _demo,
    "labels": _labels,
    "backup": _backup,
    "restore": _restore,
    "settings": _settings,
    "import-template": _import_template,
    "import": _import,
}

if __name__ == "__main__":
    sys.exit(main())
