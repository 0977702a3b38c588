"""One workbook brings the college in (issue 11): read → check → (confirm) → apply.

    reading.py   bytes → sheets of cells (.xlsx via python-calamine, .csv in UTF-8 or GBK)
    cells.py     one cell → one value (numbers that were codes, full-width digits, phones)
    sheets.py    the public contract: sheet names, headers, the template
    checking.py  the workbook against the database → a preview and a plan; writes nothing
    rules.py     what each sheet must satisfy (references, beds, roles …), used by checking
    applying.py  the plan → bulk inserts and updates in the caller's transaction
    runs.py      the web's upload → preview → confirm, kept in the `imports` table

`import_workbook` is the whole thing in one call, for the shell, the demo and tests.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from server.college_import import applying, checking, reading
from server.college_import.checking import Preview
from server.college_import.reading import MAX_BYTES, Unreadable
from server.college_import.sheets import SHEETS, template
from server.models import ImportRun, ImportStatus, User

__all__ = ["MAX_BYTES", "SHEETS", "ImportResult", "Preview", "Unreadable", "import_workbook",
           "template"]  # fmt: skip


@dataclass
class ImportResult:
    preview: Preview
    applied: bool


def import_workbook(
    db: Session,
    content: bytes,
    filename: str,
    user: User | None = None,
    *,
    sheet: str | None = None,
    dry_run: bool = False,
    progress=None,
) -> ImportResult:
    """Check the workbook and, when no row has an error and it is not a dry run, apply it and
    commit, in one transaction with its record in `imports`. Raises Unreadable for a file
    that cannot be read. A workbook with errors is recorded as rejected; nothing else is
    written. `progress(stage, fraction)` is called as the work goes on."""
    book = reading.read(content, filename, sheet)
    try:
        preview, plan = checking.check(db, book, progress, user)
        applied = not preview.errors and not dry_run
        if applied:
            applying.apply(db, plan, progress, user, filename)
        elif dry_run:
            db.rollback()
            return ImportResult(preview, False)
        db.add(record(filename, user, content, sheet, preview, applied))
        db.commit()
    except BaseException:
        db.rollback()
        raise
    return ImportResult(preview, applied)


def record(filename, user, content, sheet, preview: Preview, applied: bool) -> ImportRun:
    """The `imports` row of a finished import (who, when, file, counts)."""
    return ImportRun(
        id=new_id(),
        user_id=user.id if user else None,
        filename=filename[:200],
        sheet=sheet,
        content=None,
        size=len(content),
        status=ImportStatus.applied if applied else ImportStatus.rejected,
        progress=100,
        stage="",
        preview=preview.as_dict(),
        counts=preview.counts,
        message="",
        finished_at=datetime.now(UTC),
    )


def new_id() -> str:
    return secrets.token_urlsafe(16)  # 22 characters: a run's URL cannot be guessed
