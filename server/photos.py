"""Photos kept as evidence with an entry (a dorm visit's 违章电器, a safety hazard).

A photo belongs to an entry id, whatever its kind (`PHOTO_KINDS` says which kinds take
them today). The phone downscales each one (≤ 1600 px, ≤ 300 KB, web/static/photos.js),
keeps it with the outbox item and uploads it after the entry (POST /sync/photos); the
server checks the bytes themselves (magic numbers, size), keeps the file under the photo
folder (XUEGONG_PHOTO_DIR, by default var/photos) under a random name, and the row in
`photos`. Reading a photo is reading its entry (`scope.entry_for`); deleting the entry
removes its photos (`drop_for_entry`, from sync/merge.py).
"""

from __future__ import annotations

import logging
import os
import secrets
import uuid
from pathlib import Path

from sqlalchemy import delete, event, func, select
from sqlalchemy.orm import Session

from server.entries import Rejected
from server.models import Entry, Photo, User

log = logging.getLogger(__name__)

MAX_PHOTOS = 3  # per entry
MAX_BYTES = 512 * 1024  # the phone sends ≤ 300 KB; slack for another phone's encoder
PHOTO_KINDS = {"dorm_visit"}
TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
TOO_BIG = f"照片太大（最多 {MAX_BYTES // 1024} KB），请在手机上重新拍摄后上传。"
NOT_AN_IMAGE = "只能上传照片（JPEG、PNG 或 WebP 格式）。"


class PhotoRefused(Rejected):
    """A photo the server will not keep; `status` is the HTTP answer."""

    def __init__(self, reason: str, status: int = 422) -> None:
        super().__init__(reason)
        self.status = status


def sniff(content: bytes) -> str | None:
    """The image type the bytes really are (their magic numbers), or None."""
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(content) >= 12 and content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    return None


def folder(db: Session) -> Path:
    """Where the files are: the app's sessions carry it (server/app.py); elsewhere the
    environment's settings."""
    configured = db.info.get("photo_dir")
    if configured is None:
        from server.settings import Settings  # only scripts and tests get here

        configured = Settings.from_env().photo_dir
    return Path(configured)


def of_entry(db: Session, entry_id: uuid.UUID) -> list[Photo]:
    return list(
        db.scalars(select(Photo).where(Photo.entry_id == entry_id).order_by(Photo.position))
    )


def counts(db: Session, entry_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """How many photos each entry has (those without any are absent)."""
    if not entry_ids:
        return {}
    rows = db.execute(
        select(Photo.entry_id, func.count())
        .where(Photo.entry_id.in_(entry_ids))
        .group_by(Photo.entry_id)
    )
    return dict(rows.all())


def store(
    db: Session, user: User, entry_id: uuid.UUID, position: int, content: bytes
) -> tuple[Photo, bool]:
    """Keep one photo of the user's own entry at `position`; (photo, stored now). A photo
    already at that position is answered as it is (the phone retries after a lost answer).
    The caller commits."""
    if not 1 <= position <= MAX_PHOTOS:
        raise PhotoRefused(f"每条记录最多 {MAX_PHOTOS} 张照片。")
    entry = db.get(Entry, entry_id)
    if entry is None:
        raise PhotoRefused("要添加照片的记录不存在，请先同步记录。", status=404)
    if entry.author_id != user.id:
        raise PhotoRefused("只有记录的填写人可以添加照片。", status=403)
    if entry.deleted:
        raise PhotoRefused("这条记录已删除，不能再添加照片。", status=409)
    if entry.kind not in PHOTO_KINDS:
        raise PhotoRefused("这种记录不能添加照片。")
    if len(content) > MAX_BYTES:
        raise PhotoRefused(TOO_BIG, status=413)
    content_type = sniff(content)
    if content_type is None:
        raise PhotoRefused(NOT_AN_IMAGE, status=415)
    existing = db.scalar(
        select(Photo).where(Photo.entry_id == entry_id, Photo.position == position)
    )
    if existing is not None:
        return existing, False
    name = f"{secrets.token_hex(16)}.{TYPES[content_type]}"
    where = folder(db)
    where.mkdir(parents=True, exist_ok=True)
    partial = where / f".{name}.part"
    partial.write_bytes(content)
    os.replace(partial, where / name)  # never a half-written photo under its name
    photo = Photo(
        entry_id=entry_id,
        position=position,
        content_type=content_type,
        size=len(content),
        file_name=name,
        uploaded_by=user.id,
    )
    db.add(photo)
    db.flush()
    return photo, True


def read(db: Session, photo: Photo) -> bytes | None:
    try:
        return (folder(db) / photo.file_name).read_bytes()
    except FileNotFoundError:
        log.warning("photo %s of entry %s: file missing", photo.id, photo.entry_id)
        return None


def drop_for_entry(db: Session, entry_id: uuid.UUID) -> None:
    """Remove an entry's photos: the rows now, the files once the transaction commits."""
    names = list(db.scalars(select(Photo.file_name).where(Photo.entry_id == entry_id)))
    if not names:
        return
    db.execute(delete(Photo).where(Photo.entry_id == entry_id))
    where = folder(db)

    @event.listens_for(db, "after_commit", once=True)
    def remove_files(_session: Session) -> None:
        for name in names:
            (where / name).unlink(missing_ok=True)
