"""The web's upload → preview → confirm, kept in the `imports` table, not in an app process.

Any app process may serve any step: the file's bytes wait in the row between preview and
confirm, and each step claims the row with a conditional UPDATE, so a double click or two
processes never check or apply one upload twice. Confirming checks the workbook again in
the applying transaction (the database may have changed since the preview) and applies it
only when it is still free of errors.

Progress is written by a second connection while the work goes on, for the page that polls
it. On SQLite it is written only while checking: a commit from another connection between
the applying transaction's first read and its first write would make that write fail
(WAL snapshot), so applying shows a bar without figures there.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from server.college_import import applying, checking, new_id, reading
from server.college_import.reading import MAX_BYTES, Unreadable
from server.models import ImportRun, ImportStatus, User

log = logging.getLogger("xuegong")

CHECK_SHARE = 0.4  # of the bar while confirming: checking again, then writing


def create(db: Session, content: bytes, filename: str, user: User, sheet: str | None) -> ImportRun:
    """Keep an uploaded file; raises Unreadable for one above the size limit."""
    if len(content) > MAX_BYTES:
        raise Unreadable(f"文件超过 {MAX_BYTES // (1024 * 1024)} MB，请拆分后分批导入。")
    run = ImportRun(
        id=new_id(), user_id=user.id, filename=(filename or "未命名")[:200], sheet=sheet or None,
        content=content, size=len(content), status=ImportStatus.uploaded, progress=0, stage="",
        message="",
    )  # fmt: skip
    db.add(run)
    db.commit()
    return run


def check(make_session: sessionmaker[Session], run_id: str) -> None:
    if not _claim(make_session, run_id, ImportStatus.uploaded, ImportStatus.checking):
        return
    report = _reporter(make_session, run_id, 0.0, 1.0)
    with make_session() as db:
        run = db.get(ImportRun, run_id)
        try:
            book = reading.read(run.content, run.filename, run.sheet)
            preview, _ = checking.check(db, book, report, run.user)
        except Unreadable as exc:
            db.rollback()
            _finish(db, run_id, ImportStatus.unreadable, message=str(exc), keep_file=False)
            return
        except Exception:
            log.exception("checking import %s failed", run_id)
            db.rollback()
            _finish(db, run_id, ImportStatus.failed, message="检查时出错，未写入任何数据。")
            return
        db.rollback()  # end the reading transaction before writing the result (SQLite)
        status = ImportStatus.rejected if preview.errors else ImportStatus.checked
        _finish(db, run_id, status, preview=preview, keep_file=not preview.errors,
                done=False)  # fmt: skip


def apply(make_session: sessionmaker[Session], run_id: str) -> None:
    if not _claim(make_session, run_id, ImportStatus.checked, ImportStatus.applying):
        return
    with make_session() as db:
        on_sqlite = db.get_bind().dialect.name == "sqlite"
        run = db.get(ImportRun, run_id)
        content, filename, sheet = run.content, run.filename, run.sheet
        try:
            book = reading.read(content, filename, sheet)
            check_bar = None if on_sqlite else _reporter(make_session, run_id, 0.0, CHECK_SHARE)
            importer = db.get(User, run.user_id) if run.user_id else None
            preview, plan = checking.check(db, book, check_bar, importer)
            if preview.errors:  # the database changed since the preview
                db.rollback()
                _finish(db, run_id, ImportStatus.rejected, preview=preview,
                        keep_file=False)  # fmt: skip
                return
            write_bar = None if on_sqlite else _reporter(make_session, run_id, CHECK_SHARE, 1.0)
            applying.apply(db, plan, write_bar, importer, filename)
            db.execute(
                update(ImportRun)
                .where(ImportRun.id == run_id)
                .values(status=ImportStatus.applied, preview=preview.as_dict(),
                        counts=preview.counts, content=None, progress=100, stage="",
                        finished_at=datetime.now(UTC))
            )  # fmt: skip
            db.commit()
        except Exception:
            log.exception("applying import %s failed", run_id)
            db.rollback()
            _finish(
                db, run_id, ImportStatus.failed, message="导入时出错，已全部撤销，未写入任何数据。"
            )


def _claim(make_session, run_id: str, want: ImportStatus, to: ImportStatus) -> bool:
    with make_session() as db:
        claimed = db.execute(
            update(ImportRun)
            .where(ImportRun.id == run_id, ImportRun.status == want)
            .values(status=to, progress=0, stage="")
        ).rowcount
        db.commit()
    return claimed == 1


def _finish(db: Session, run_id: str, status: ImportStatus, *, preview=None, message: str = "",
            keep_file: bool = True, done: bool = True) -> None:  # fmt: skip
    values = {"status": status, "progress": 100, "stage": "", "message": message}
    if preview is not None:
        values["preview"], values["counts"] = preview.as_dict(), preview.counts
    if not keep_file:
        values["content"] = None
    if done:
        values["finished_at"] = datetime.now(UTC)
    db.execute(update(ImportRun).where(ImportRun.id == run_id).values(**values))
    db.commit()


def _reporter(make_session, run_id: str, start: float, end: float):
    def report(stage: str, fraction: float) -> None:
        with make_session() as db:
            db.execute(
                update(ImportRun)
                .where(ImportRun.id == run_id)
                .values(progress=int(100 * (start + (end - start) * fraction)), stage=stage)
            )
            db.commit()

    return report
