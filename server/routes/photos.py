"""A record's photos (server/photos.py): served to whoever may read the record, never cached."""

from __future__ import annotations

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from sqlalchemy.orm import Session

from server import photos, scope
from server.models import Photo, User
from server.params import Id

# a photo is student data: neither the browser's cache nor a proxy keeps it (and web/sw.js
# leaves /photos/ alone)
NO_CACHE = {"Cache-Control": "private, no-store"}


@get("/photos/{photo_id:int}", name="photo", sync_to_thread=True)
def photo(request: Request[User, dict, object], db: Session, photo_id: Id) -> Response:
    row = db.get(Photo, photo_id)
    if row is None:
        raise NotFoundException("找不到这张照片。")
    entry = scope.entry_for(db, request.user, row.entry_id)  # 403 for those who may not read it
    if entry.deleted:
        raise NotFoundException("找不到这张照片。")
    content = photos.read(db, row)
    if content is None:
        raise NotFoundException("这张照片的文件已不存在。")
    return Response(content, media_type=row.content_type, headers=NO_CACHE)


ROUTES = [photo]
