"""Door label sheets (admin): A4, 3 × 8 labels, QR code with the room number under it, the
room's short code (typed in 找宿舍 when the code will not scan) and 使用学工随行扫码."""

from __future__ import annotations

from litestar import Request, get
from litestar.exceptions import NotFoundException
from litestar.response import Template
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, contains_eager

from server import doors, homes
from server.auth import requires_admin
from server.models import Building, Room
from server.params import Id
from server.settings import Settings

LABELS_PER_SHEET = 24  # 3 columns × 8 rows on A4


@get("/labels", name="labels", guards=[requires_admin], sync_to_thread=True)
def buildings(db: Session) -> Template:
    rows = db.execute(
        select(Building, func.count(Room.id))
        .join(Room, isouter=True)
        .group_by(Building.id)
        .order_by(Building.name)
    ).all()
    return Template("labels.html", context={"buildings": rows})


@get("/labels/missing", name="rooms_without_labels", guards=[requires_admin], sync_to_thread=True)
def rooms_without_labels(db: Session) -> Template:
    """Rooms whose current label was never opened for printing: new rooms, revoked labels."""
    rooms = db.scalars(
        homes.rooms_without_labels(db)
        .join(Building)
        .options(contains_eager(Room.building))
        .order_by(Building.name, Room.number)
    ).all()
    return Template("labels_missing.html", context={"rooms": rooms})


# the sheet is opened to be printed: it notes each room's label version as printed
@get("/labels/{building_id:int}", name="label_sheet", guards=[requires_admin],
     opt={"writes": True}, sync_to_thread=True)  # fmt: skip
def label_sheet(request: Request, db: Session, settings: Settings, building_id: Id) -> Template:
    building = db.get(Building, building_id)
    if building is None:
        raise NotFoundException("找不到这栋宿舍楼。")
    labels = []
    for room in doors.rooms_of(db, building.name):
        url = doors.door_url(
            settings, request.app.route_reverse("door", token=doors.room_token(settings, room))
        )
        labels.append(
            {"room": room, "url": url, "svg": doors.qr_svg(url), "code": doors.short_code(room)}
        )
    db.execute(
        update(Room)
        .where(Room.building_id == building.id)
        .values(printed_label_version=Room.label_version)
    )
    db.commit()
    sheets = [labels[i : i + LABELS_PER_SHEET] for i in range(0, len(labels), LABELS_PER_SHEET)]
    return Template(
        "label_sheet.html",
        context={
            "building": building,
            "sheets": sheets,
            "local_address": settings.base_url if settings.base_url_is_local else "",
        },
    )


ROUTES = [buildings, rooms_without_labels, label_sheet]
