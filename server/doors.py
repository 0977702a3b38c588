"""Door QR labels: a signed token names the room and its label version.

itsdangerous signs with the newest key and verifies with all of them, so rotating keys
keeps printed labels working. Labels never expire; bumping a room's `label_version`
revokes the labels printed before.
"""

from __future__ import annotations

import sys

import qrcode
import qrcode.image.svg
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Building, Room
from server.settings import Settings

SALT = "door-qr-v1"


class BadLabel(Exception):
    """The token is tampered with, unknown or revoked; the message is shown to the user."""


def _serializer(settings: Settings) -> URLSafeSerializer:
    # settings list keys newest first; itsdangerous signs with the last one
    return URLSafeSerializer(list(reversed(settings.secret_keys)), salt=SALT)


def room_token(settings: Settings, room: Room) -> str:
    return _serializer(settings).dumps([room.id, room.label_version])


def room_from_token(db: Session, settings: Settings, token: str) -> Room:
    try:
        room_id, version = _serializer(settings).loads(token)
    except (BadSignature, ValueError, TypeError) as exc:
        raise BadLabel("这个二维码无法识别：它可能被改动过，或不是本系统打印的门牌。") from exc
    room = db.get(Room, room_id)
    if room is None:
        raise BadLabel("这个二维码对应的宿舍已不存在，请联系管理员重新打印门牌。")
    if room.label_version != version:
        raise BadLabel("这个门牌二维码已作废（已重新打印），请使用新门牌。")
    return room


def door_url(settings: Settings, path: str) -> str:
    """The full address printed on a label: base URL plus the route's own path."""
    return settings.base_url + path


def qr_svg(url: str) -> str:
    """An inline SVG QR code; medium error correction survives a scuffed label."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=4)
    qr.add_data(url)
    qr.make(fit=True)
    return qr.make_image(image_factory=qrcode.image.svg.SvgPathImage).to_string(encoding="unicode")


def rooms_of(db: Session, building: str | None = None) -> list[Room]:
    query = select(Room).join(Building).order_by(Building.name, Room.number)
    if building:
        query = query.where(Building.name == building)
    return list(db.scalars(query))


def print_label_csv(settings: Settings, building: str | None = None) -> int:
    """`xuegong labels --csv`: building,room,url for every room (of one building if named)."""
    import csv

    from server.app import create_app
    from server.db import make_engine, make_sessionmaker

    app = create_app(settings)
    engine = make_engine(settings.database_url)
    with make_sessionmaker(engine)() as db:
        rooms = rooms_of(db, building)
        if building and not rooms:
            print(f"xuegong: no building named {building!r}", file=sys.stderr)
            return 1
        out = csv.writer(sys.stdout, lineterminator="\n")
        out.writerow(["building", "room", "url"])
        for room in rooms:
            path = app.route_reverse("door", token=room_token(settings, room))
            out.writerow([room.building.name, room.number, door_url(settings, path)])
    engine.dispose()
    return 0
