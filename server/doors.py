"""Door QR labels: a signed token names the room and its label version.

The token is short (`<room id>.<label version>.<8-character signature>`: itsdangerous `Signer`
with its own salt and an HMAC cut to 6 bytes, about 14 characters) so the printed QR code stays
small and scans from a metre away. It is signed with the newest key and verified with all of
them, so rotating keys keeps printed labels working. Labels
never expire; bumping a room's `label_version` revokes the labels printed before. Labels
printed before the short form (itsdangerous `URLSafeSerializer` tokens) still open.

Under the code a label prints the room's short code (`<building id>-<room number>`), which
the manual room search (/rooms/find) accepts when a label cannot be scanned.
"""

from __future__ import annotations

import hashlib
import re

import qrcode
import qrcode.image.svg
from itsdangerous import BadSignature, Signer, URLSafeSerializer
from itsdangerous.signer import HMACAlgorithm
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Building, Room
from server.settings import Settings

SALT = "door-qr-v1"  # the long tokens printed before the short form
SHORT_SALT = "door-qr-v2"
MAC_BYTES = 6  # 48 bits, 8 characters: guessing one means millions of logged-in requests
SHORT_TOKEN = re.compile(r"(\d+)\.(\d+)\.([\w-]{8})")
SHORT_CODE = re.compile(r"(\d+)-(\w+)")


class BadLabel(Exception):
    """The token is tampered with, unknown or revoked; the message is shown to the user."""


def _serializer(settings: Settings) -> URLSafeSerializer:
    # settings list keys newest first; itsdangerous signs with the last one
    return URLSafeSerializer(list(reversed(settings.secret_keys)), salt=SALT)


class _ShortHMAC(HMACAlgorithm):
    """HMAC-SHA256 cut to MAC_BYTES: a door label's signature only has to resist guessing
    by logged-in users, and every character saved makes the printed QR code smaller."""

    def get_signature(self, key: bytes, value: bytes) -> bytes:
        return super().get_signature(key, value)[:MAC_BYTES]


def _signer(settings: Settings) -> Signer:
    # itsdangerous signs with the last key and verifies with all: rotation keeps labels working
    return Signer(
        list(reversed(settings.secret_keys)),
        salt=SHORT_SALT,
        sep=".",
        algorithm=_ShortHMAC(hashlib.sha256),
    )


def room_token(settings: Settings, room: Room) -> str:
    return _signer(settings).sign(f"{room.id}.{room.label_version}").decode()


def _read_token(settings: Settings, token: str) -> tuple[int, int]:
    if SHORT_TOKEN.fullmatch(token) is None:
        room_id, version = _serializer(settings).loads(token)  # a label printed before
        return int(room_id), int(version)
    room_id, version = _signer(settings).unsign(token).decode().split(".")
    return int(room_id), int(version)


def room_from_token(db: Session, settings: Settings, token: str) -> Room:
    try:
        room_id, version = _read_token(settings, token)
    except (BadSignature, ValueError, TypeError) as exc:
        raise BadLabel("这个二维码无法识别：它可能被改动过，或不是本系统打印的门牌。") from exc
    room = db.get(Room, room_id)
    if room is None:
        raise BadLabel("这个二维码对应的宿舍已不存在，请联系管理员重新打印门牌。")
    if room.label_version != version:
        raise BadLabel("这个门牌二维码已作废（已重新打印），请使用新门牌。")
    return room


def short_code(room: Room) -> str:
    """What a person types when the QR code cannot be scanned: `<building id>-<room number>`."""
    return f"{room.building_id}-{room.number}"


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
