"""The sync endpoints: phones push their outbox and pull what changed (docs/sync.md).

A service worker cannot send a CSRF token, so these JSON endpoints are protected by the
session cookie (SameSite=Lax: never sent on a cross-site POST), a required
`application/json` body (a cross-site form cannot send one without a CORS preflight, which
this app never answers) and a same-origin check on `Origin` / `Sec-Fetch-Site`.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.connection import ASGIConnection
from litestar.exceptions import (
    ClientException,
    HTTPException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.handlers import BaseRouteHandler
from litestar.params import Parameter
from msgspec import Meta
from sqlalchemy import select
from sqlalchemy.orm import Session

from server import conflicts as conflicts_
from server import errors, photos, scope
from server.auth import requires_staff
from server.entries import Rejected
from server.kinds import kind_of
from server.models import ChangeCounter, Conflict, Entry, User
from server.params import ChangeNo, Id
from server.sync import devices, merge

log = logging.getLogger(__name__)

MAX_BATCH = 200  # mutations per push; a phone sends its outbox in several batches
MAX_BODY_BYTES = 512 * 1024
PULL_PAGE = 200
PULL_PAGE_MAX = 1000


Count = Annotated[int, Meta(ge=0, le=2**63 - 1)]  # BigInteger columns
Small = Annotated[int, Meta(ge=0, le=2**31 - 1)]  # Integer columns


class MutationIn(msgspec.Struct):
    """One outbox item. The envelope is typed here; `payload` and `form` are decoded by the
    mutation's kind (`_mutation`), so a bad payload refuses that mutation only."""

    id: uuid.UUID
    op: Literal["create", "update", "delete"]
    kind: Annotated[str, Meta(max_length=64)]
    mutation_no: Count
    # any JSON: a payload that is not an object is refused by its kind, not the whole push
    payload: Any = None
    form: Any = None  # the fields of the kind's HTML form, as the page would post them
    base_revision: Small | None = None
    schema_version: Small = 1
    recorded_at: datetime | None = None
    # delete: why (required; may come in `form` as "reason" instead, as the delete form posts)
    reason: Annotated[str, Meta(max_length=2000)] | None = None


class PushIn(msgspec.Struct):
    device_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f]*$")]
    mutations: list[MutationIn]


class Result(msgspec.Struct):
    id: uuid.UUID
    mutation_no: int
    status: Literal["applied", "duplicate", "conflict", "rejected"]
    revision: int | None = None
    reason: str | None = None


class PushOut(msgspec.Struct):
    results: list[Result]
    cursor: int


class Change(msgspec.Struct):
    id: uuid.UUID
    kind: str
    payload: dict
    revision: int
    deleted: bool
    author_id: int
    room_id: int | None
    class_id: int | None
    recorded_at: datetime
    seq: int


class PullOut(msgspec.Struct):
    changes: list[Change]
    next: int
    more: bool


class ResolveIn(msgspec.Struct):
    keep: Literal["server", "mine"]


def no_preflight(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """OPTIONS is a CORS preflight, which this app never answers (see the module's docstring).
    Refused first: the staff guard would read a user the session middleware never sets for
    OPTIONS."""
    if connection.scope["method"] == "OPTIONS":
        raise HTTPException(status_code=405, detail="同步接口不接受跨站预检请求（OPTIONS）。")


def same_origin_json(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Refuse what a foreign page could make a browser send with the user's cookie."""
    if connection.scope["method"] == "POST":
        content_type = connection.headers.get("content-type", "").split(";")[0].strip()
        if _.opt.get("image_body"):
            # a photo's bytes: an image type needs a CORS preflight too (never answered)
            if content_type not in photos.TYPES:
                raise HTTPException(status_code=415, detail=photos.NOT_AN_IMAGE)
        elif content_type != "application/json":
            raise HTTPException(status_code=415, detail="同步请求必须是 JSON（application/json）。")
    origin = connection.headers.get("origin")
    if origin and origin not in _own_origins(connection):
        raise PermissionDeniedException("同步请求只接受本站页面发出的请求。")
    if connection.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        raise PermissionDeniedException("同步请求只接受本站页面发出的请求。")


def _own_origins(connection: ASGIConnection) -> set[str]:
    """The address the request came to, and the public one (XUEGONG_BASE_URL): behind a
    reverse proxy that ends TLS the app itself is spoken to over plain http."""
    here = urlsplit(str(connection.base_url))
    public = urlsplit(connection.app.state.settings.base_url)
    return {f"{here.scheme}://{here.netloc}", f"{public.scheme}://{public.netloc}"}


@post(
    "/push",
    name="sync_push",
    status_code=200,
    request_max_body_size=MAX_BODY_BYTES,
    sync_to_thread=True,
)
def push(request: Request[User, dict, object], db: Session, data: PushIn) -> PushOut:
    """Apply a batch of mutations from one device; one result per mutation, in order."""
    if len(data.mutations) > MAX_BATCH:
        raise HTTPException(status_code=413, detail=f"一次最多同步 {MAX_BATCH} 条，请分批发送。")
    if not 0 < len(data.device_id) <= 64:
        raise ValidationException("设备编号格式不正确。")
    devices.claim(db, request.user, data.device_id)
    outcomes: dict[int, merge.Outcome] = {}
    readable: dict[int, merge.Mutation] = {}
    for position, m in enumerate(data.mutations):
        try:
            readable[position] = _mutation(m, data.device_id)
        except Rejected as exc:
            outcomes[position] = merge.Outcome(m.id, "rejected", reason=exc.reason)
        except Exception:  # a bug in a kind's mapping must not cost the rest of the batch
            log.exception("entry %s: payload could not be read", m.id)
            outcomes[position] = merge.Outcome(m.id, "rejected", reason=merge.FAILED)
    applied = merge.apply_batch(db, request.user, list(readable.values()))
    outcomes.update(zip(readable, applied, strict=True))
    # the counter as this push leaves it: as the batch's creates took it (the row stays
    # locked until the commit), or read before the commit — after it, the read would open a
    # transaction of its own (on SQLite one that waits for the write lock)
    cursor = db.info.pop(merge.COUNTER_AFTER, None)
    if cursor is None:
        cursor = db.execute(_CURSOR).scalar_one()
    db.commit()
    results = []
    for position, m in enumerate(data.mutations):
        outcome = outcomes[position]
        results.append(
            Result(m.id, m.mutation_no, outcome.status, outcome.revision, outcome.reason)
        )
    return PushOut(results=results, cursor=cursor)


_CURSOR = select(ChangeCounter.value).where(ChangeCounter.id == 1)


def _mutation(m: MutationIn, device_id: str) -> merge.Mutation:
    """The mutation with its payload decoded into its kind's Struct (`Rejected` when the
    payload or form does not fit), before any merge step."""
    kind = kind_of(m.kind)
    payload = None
    reason = m.reason
    if m.op == "delete":
        if reason is None and isinstance(m.form, dict) and isinstance(m.form.get("reason"), str):
            reason = m.form["reason"]
    else:
        if m.form is not None:
            payload = kind.decode_form(m.form, m.schema_version)
        elif m.payload is not None:
            payload = kind.decode(m.payload, m.schema_version)
        else:
            raise Rejected("记录内容为空。")
    return merge.Mutation(
        id=m.id,
        op=m.op,
        kind=m.kind,
        payload=payload or {},
        base_revision=m.base_revision,
        schema_version=m.schema_version,
        recorded_at=m.recorded_at,
        device_id=device_id,
        mutation_no=m.mutation_no,
        reason=reason,
    )


@get("/pull", name="sync_pull", sync_to_thread=True)
def pull(
    request: Request[User, dict, object],
    db: Session,
    since: ChangeNo = 0,
    limit: ChangeNo = PULL_PAGE,
) -> PullOut:
    """Entries this user may read that changed after `since`, in change order, a page at a time."""
    limit = max(1, min(limit, PULL_PAGE_MAX))
    rows = db.scalars(
        select(Entry)
        .where(scope.entry_condition(request.user), Entry.seq > since)
        .order_by(Entry.seq)
        .limit(limit + 1)
    ).all()
    page = rows[:limit]
    # sensitive notes leave the server only for those who may read them (scope.py)
    if scope.note_sensitive_reads(db, request.user, page, "sync_pull"):
        db.commit()
    changes = [
        Change(
            e.id,
            e.kind,
            scope.shown_payload(request.user, e)[0],
            e.revision,
            e.deleted,
            e.author_id,
            e.room_id,
            e.class_id,
            e.recorded_at,
            e.seq,
        )
        for e in page
    ]
    return PullOut(changes=changes, next=page[-1].seq if page else since, more=len(rows) > limit)


@get("/conflicts", name="sync_conflicts", sync_to_thread=True)
def conflicts(request: Request[User, dict, object], db: Session) -> Response:
    """The author's versions that lost a merge and wait for a decision."""
    rows = db.scalars(
        select(Conflict)
        .where(Conflict.author_id == request.user.id, Conflict.resolved.is_(False))
        .order_by(Conflict.id)
    ).all()
    return Response(
        {
            "conflicts": [
                {
                    "id": c.id,
                    "entry_id": str(c.entry_id),
                    "op": c.op,
                    "payload": c.payload,
                    "base_revision": c.base_revision,
                    "server_revision": c.server_revision,
                }
                for c in rows
            ]
        }
    )


@post(
    "/conflicts/{conflict_id:int}/resolve",
    name="sync_resolve",
    status_code=200,
    sync_to_thread=True,
)
def resolve(
    request: Request[User, dict, object], db: Session, conflict_id: Id, data: ResolveIn
) -> Result:
    """Keep the server's version, or write mine on top of the current revision."""
    conflict = scope.conflict_for(db, request.user, conflict_id)
    outcome = conflicts_.resolve(db, request.user, conflict, data.keep)
    db.commit()
    return Result(conflict.entry_id, 0, outcome.status, outcome.revision, outcome.reason)


@post(
    "/photos",
    name="sync_photo",
    status_code=200,
    request_max_body_size=photos.MAX_BYTES,
    # the body arrives slowly over a corridor's link: no SQLite writer's turn is held while
    # it does (server/app.py); the one insert comes after it
    opt={"image_body": True, "writes": False},
)
async def upload_photo(
    request: Request[User, dict, object],
    db: Session,
    entry_id: uuid.UUID,
    position: Annotated[int, Parameter(ge=1, le=photos.MAX_PHOTOS)],
) -> Response:
    """One photo of the user's entry, its bytes as the body (image/jpeg, image/png or
    image/webp), after the entry itself was pushed; sending it again is answered the same.

    Async only to read the raw body (Litestar would decode a `data: bytes` as JSON, and the
    route's size limit answers 413 while reading); the database work runs in the worker
    threads like every other handler's."""
    content = await request.body()
    return await asyncio.get_running_loop().run_in_executor(
        None, _store_photo, db, request.user, entry_id, position, content
    )


def _store_photo(
    db: Session, user: User, entry_id: uuid.UUID, position: int, content: bytes
) -> Response:
    try:
        photo, fresh = photos.store(db, user, entry_id, position, content)
    except photos.PhotoRefused as exc:
        return Response(
            {"error": errors.TITLES.get(exc.status, "内容有误"), "detail": exc.reason},
            status_code=exc.status,
        )
    db.commit()
    return Response(
        {
            "id": photo.id,
            "entry_id": str(photo.entry_id),
            "position": photo.position,
            "status": "stored" if fresh else "duplicate",
        }
    )


def _bad_request(request: Request, exc: ClientException) -> Response:
    """Broken JSON or a wrong shape is 422 with a reason; other client errors keep their status."""
    if exc.status_code == 413 and request.url.path.endswith("/photos"):
        return Response({"error": "内容太大", "detail": photos.TOO_BIG}, status_code=413)
    if exc.status_code != 400:
        return errors.http_error(request, exc)
    return Response({"error": "内容有误", "detail": "同步内容的格式不正确。"}, status_code=422)


router = Router(
    path="/sync",
    route_handlers=[push, pull, conflicts, resolve, upload_photo],
    guards=[no_preflight, requires_staff, same_origin_json],
    exception_handlers={ClientException: _bad_request, ValidationException: _bad_request},
    tags=["sync"],
)

ROUTES = [router]
