"""导入 (admin): the template, upload → preview → confirm, and the list of past imports.

The work is in server/college_import/; these handlers parse, call and render. Checking and
applying run inside the POST that asks for them (in its worker thread), while the page polls
the run's progress fragment; a plain form post does the same and redirects when done.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body
from litestar.plugins.htmx import ClientRedirect, HTMXRequest
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.orm import Session, defer, joinedload

from server.auth import requires_admin
from server.college_import import MAX_BYTES, SHEETS, Unreadable, runs, template
from server.models import ImportRun, ImportStatus, User

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LISTED_RUNS = 50
SHOWN_ERRORS = 500  # the page lists this many; `xuegong import` prints every one
SHOWN_CHANGES = 200  # changed rows listed per sheet
# Litestar's own limit answers 413 before the handler runs: leave room for the form around
# a file just above MAX_BYTES, so the handler can say so in Chinese
UPLOAD_BODY_LIMIT = MAX_BYTES + 1024 * 1024
IN_PROGRESS = {ImportStatus.uploaded, ImportStatus.checking, ImportStatus.applying}


@dataclass
class Upload:
    file: UploadFile | None = None  # optional, so a form without a file gets our message
    sheet: str = ""


@get("/admin/import", name="admin_import", guards=[requires_admin], sync_to_thread=True)
def import_page(db: Session, error: str = "") -> Template:
    return _front(db, error=error)


@get(
    "/admin/import/template.xlsx",
    name="import_template",
    guards=[requires_admin],
    sync_to_thread=False,
)
def import_template() -> Response:
    return Response(
        template(),
        media_type=XLSX,
        headers={
            "Content-Disposition": "attachment; filename*=UTF-8''%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx"
        },
    )  # "导入模板.xlsx", percent-encoded as RFC 6266 wants


@post(
    "/admin/import/uploads",
    name="import_upload",
    guards=[requires_admin],
    sync_to_thread=True,
    request_max_body_size=UPLOAD_BODY_LIMIT,
)
def upload(
    request: Request[User, dict, object],
    db: Session,
    data: Annotated[Upload, Body(media_type=RequestEncodingType.MULTI_PART)],
) -> Template | Redirect:
    content = data.file.file.read(MAX_BYTES + 1) if data.file else b""
    if not content:
        return _front(db, error="请选择要导入的文件（文件不能是空的）。", status=422)
    try:
        run = runs.create(db, content, data.file.filename, request.user, data.sheet.strip())
    except Unreadable as exc:
        return _front(db, error=str(exc), status=422)
    return Redirect(request.app.route_reverse("import_run", run_id=run.id), status_code=303)


@get("/admin/import/{run_id:str}", name="import_run", guards=[requires_admin], sync_to_thread=True)
def run_page(db: Session, run_id: str) -> Template:
    run = _run(db, run_id)
    return Template(
        "admin_import_run.html",
        context={"run": run, "in_progress": run.status in IN_PROGRESS, **_preview(run)},
    )


@get(
    "/admin/import/{run_id:str}/progress",
    name="import_progress",
    guards=[requires_admin],
    sync_to_thread=True,
)
def progress(db: Session, run_id: str) -> Template:
    run = _run(db, run_id, with_preview=False)  # polled every second
    return Template("_admin_import_progress.html", context={"run": run})


@post(
    "/admin/import/{run_id:str}/check",
    name="import_check",
    guards=[requires_admin],
    sync_to_thread=True,
)
def check(request: HTMXRequest, db: Session, run_id: str) -> Redirect | ClientRedirect:
    _run(db, run_id, with_preview=False)
    db.close()
    runs.check(request.app.state.sessionmaker, run_id)
    return _back(request, run_id)


@post(
    "/admin/import/{run_id:str}/apply",
    name="import_apply",
    guards=[requires_admin],
    sync_to_thread=True,
)
def confirm(request: HTMXRequest, db: Session, run_id: str) -> Redirect | ClientRedirect:
    _run(db, run_id, with_preview=False)
    db.close()
    runs.apply(request.app.state.sessionmaker, run_id)
    return _back(request, run_id)


def _front(db: Session, *, error: str = "", status: int = 200) -> Template:
    recent = db.scalars(
        select(ImportRun)
        # the file and the preview can be megabytes each: the list needs neither
        .options(joinedload(ImportRun.user), defer(ImportRun.content), defer(ImportRun.preview))
        .order_by(ImportRun.created_at.desc(), ImportRun.id)
        .limit(LISTED_RUNS)
    ).all()
    return Template(
        "admin_import.html",
        context={
            "runs": [(r, _counts(r)) for r in recent],
            "sheets": list(SHEETS),
            "max_mb": MAX_BYTES // (1024 * 1024),
            "error": error,
        },
        status_code=status,
    )


def _run(db: Session, run_id: str, *, with_preview: bool = True) -> ImportRun:
    options = [joinedload(ImportRun.user), defer(ImportRun.content)]
    if not with_preview:
        options.append(defer(ImportRun.preview))
    run = db.scalar(select(ImportRun).options(*options).where(ImportRun.id == run_id))
    if run is None:
        raise NotFoundException("找不到这次导入。")
    return run


def _back(request: HTMXRequest, run_id: str) -> Redirect | ClientRedirect:
    url = request.app.route_reverse("import_run", run_id=run_id)
    return ClientRedirect(url) if request.htmx else Redirect(url, status_code=303)


def _counts(run: ImportRun) -> dict[str, int]:
    return run.counts or {"new": 0, "changed": 0, "unchanged": 0, "errors": 0}


def _preview(run: ImportRun) -> dict:
    preview = run.preview or {}
    errors = preview.get("errors", [])
    return {
        "sheets": preview.get("sheets", []),
        "errors": errors[:SHOWN_ERRORS],
        "hidden_errors": max(0, len(errors) - SHOWN_ERRORS),
        "ignored": preview.get("ignored", []),
        "shown_changes": SHOWN_CHANGES,
        "counts": _counts(run),
    }


ROUTES = [import_page, import_template, upload, run_page, progress, check, confirm]
