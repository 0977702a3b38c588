"""冲突: a person's versions that lost a merge, from any of their devices, and their decision.

/conflicts lists them; /conflicts/<id> shows the server's version and the phone's side by
side (server/conflicts.py); 保留我的 writes the phone's as the next revision, 保留服务器的
discards it. The outbox's 冲突 item opens /entries/<id>/conflict, the entry's open conflict.
"""

from __future__ import annotations

import uuid

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from server import conflicts, scope
from server.kinds import KINDS
from server.models import Conflict, Entry, User
from server.params import Id


@get("/conflicts", name="conflicts", sync_to_thread=True)
def conflict_list(
    request: Request[User, dict, object], db: Session, resolved: str = ""
) -> Template:
    rows = conflicts.open_of(db, request.user)
    entries = {c.entry_id: db.get(Entry, c.entry_id) for c in rows}
    return Template(
        "conflicts.html",
        context={
            "rows": [(c, entries[c.entry_id]) for c in rows if entries[c.entry_id] is not None],
            "kinds": KINDS,
            "resolved": _entry_id(resolved),
        },
    )


@get("/entries/{entry_id:uuid}/conflict", name="entry_conflict", sync_to_thread=True)
def entry_conflict(
    request: Request[User, dict, object], db: Session, entry_id: uuid.UUID
) -> Template | Redirect:
    """From the outbox: the newest open conflict of this entry, or the list when none is left
    (resolved on another device)."""
    rows = conflicts.open_of(db, request.user, entry_id)
    if not rows:
        return Redirect(request.app.route_reverse("conflicts"), status_code=303)
    return _page(db, rows[-1])


@get("/conflicts/{conflict_id:int}", name="conflict", sync_to_thread=True)
def conflict_page(request: Request[User, dict, object], db: Session, conflict_id: Id) -> Template:
    return _page(db, scope.conflict_for(db, request.user, conflict_id))


@post("/conflicts/{conflict_id:int}/keep-mine", name="keep_mine", sync_to_thread=True)
def keep_mine(
    request: Request[User, dict, object], db: Session, conflict_id: Id
) -> Template | Redirect:
    return _resolve(request, db, conflict_id, "mine")


@post("/conflicts/{conflict_id:int}/keep-server", name="keep_server", sync_to_thread=True)
def keep_server(
    request: Request[User, dict, object], db: Session, conflict_id: Id
) -> Template | Redirect:
    return _resolve(request, db, conflict_id, "server")


def _resolve(
    request: Request[User, dict, object], db: Session, conflict_id: int, keep: conflicts.Keep
) -> Template | Redirect:
    conflict = scope.conflict_for(db, request.user, conflict_id)
    outcome = conflicts.resolve(db, request.user, conflict, keep)
    db.commit()
    if outcome.status == "rejected":
        return _page(db, conflict, error=outcome.reason, status=422)
    # the page the redirect lands on drops the phone's copy from its outbox (conflicts.js)
    target = f"{request.app.route_reverse('conflicts')}?resolved={conflict.entry_id}"
    return Redirect(target, status_code=303)


def _page(db: Session, conflict: Conflict, *, error: str = "", status: int = 200) -> Template:
    entry = db.get(Entry, conflict.entry_id)
    if entry is None:
        raise NotFoundException("找不到这条记录。")
    kind = KINDS.get(entry.kind)
    return Template(
        "conflict.html",
        context={
            "conflict": conflict,
            "entry": entry,
            "label": kind.label if kind else entry.kind,
            "rows": conflicts.compare(db, conflict, entry),
            "error": error,
        },
        status_code=status,
    )


def _entry_id(text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return ""


ROUTES = [conflict_list, entry_conflict, conflict_page, keep_mine, keep_server]
