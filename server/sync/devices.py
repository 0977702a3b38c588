"""Devices belong to their user: a phone's `device_id` is registered to whoever first pushes
with it, and nobody else may push under it (docs/sync.md, "Devices").

Mutation numbers are per device, so a second user under the same id would be answered with
the first user's outcomes, and could make the first user's resends look like reused numbers.
"""

from __future__ import annotations

from litestar.exceptions import PermissionDeniedException
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.models import Device, User

NOT_YOURS = (
    "这台设备的同步编号已登记在另一位老师名下，不能用您的账号同步。请在本机退出登录后重新登录。"
)


def claim(db: Session, user: User, device_id: str) -> None:
    """Register the device to `user` on its first push; 403 when it is someone else's."""
    owner = _owner(db, device_id)
    if owner is None:
        try:
            with db.begin_nested():
                db.add(Device(device_id=device_id, user_id=user.id))
            return
        except IntegrityError:  # another request registered it a moment ago: read its row
            owner = _owner(db, device_id)
    if owner != user.id:
        raise PermissionDeniedException(NOT_YOURS)


def _owner(db: Session, device_id: str) -> int | None:
    # on the session's connection: through the session, this one-row select took twice as long
    return db.connection().scalar(_OWNER, {"device_id": device_id})


_OWNER = select(Device.user_id).where(Device.device_id == bindparam("device_id"))
