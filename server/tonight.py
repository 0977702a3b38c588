"""Tonight's round, room by room: the rooms of the building on the person's shift, which of
them they have visited, and the next one to go to (下一间, after a visit is saved).

The round is today's shift whose window is open now, else the next one today, else the last
one today. A room counts as visited once the person recorded a dorm visit there since the end
of the round before (the morning window's end for the evening round, midnight for the
morning one): a visit made a little before the window opens still ticks the room, one from
this morning's round does not. Visits by others do not tick a room: the round is the
person's own (duty.rounds judges it the same way).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager, joinedload

from server import clock, duty, scope
from server.models import Building, DutyShift, Entry, Room, User

DORM_VISIT = "dorm_visit"


@dataclass
class Round:
    shift: DutyShift
    since: datetime  # visits recorded from here on tick a room
    rooms: list[Room]
    visited: set[int]  # room ids

    def next_room(self, after: int | None = None) -> Room | None:
        """The first room not visited yet that follows room `after` in the building's order
        (wrapping round to the first floor), never `after` itself."""
        ids = [r.id for r in self.rooms]
        start = ids.index(after) + 1 if after in ids else 0
        for room in self.rooms[start:] + self.rooms[:start]:
            if room.id not in self.visited and room.id != after:
                return room
        return None


def current_round(db: Session, user: User, now: datetime | None = None) -> Round | None:
    """Today's round of this person (see the module), None on a day without a shift."""
    now = clock.college_time(now or clock.now())
    shifts = db.scalars(
        select(DutyShift)
        .options(joinedload(DutyShift.building))
        .where(DutyShift.staff_id == user.id, DutyShift.date == now.date())
    ).all()
    if not shifts:
        return None
    windows = duty.windows_for(db, user.department_id)
    shifts = sorted(shifts, key=lambda s: duty.SLOTS.index(s.slot))
    bounds = [duty.window_bounds(s.date, s.slot, windows) for s in shifts]
    chosen = next(
        (i for i, (_, ends) in enumerate(bounds) if now <= ends), len(shifts) - 1
    )  # the open or next round; after the last one closed, the last one
    shift = shifts[chosen]
    since = datetime.combine(now.date(), time(), clock.COLLEGE_TZ)
    for slot in duty.SLOTS[: duty.SLOTS.index(shift.slot)]:
        since = max(since, duty.window_bounds(now.date(), slot, windows)[1])
    rooms = list(
        db.scalars(
            select(Room)
            .join(Building)
            .options(contains_eager(Room.building))
            .where(Room.building_id == shift.building_id, Room.id.in_(scope.occupied_room_ids()))
        )
    )
    rooms.sort(key=lambda r: (len(r.number), r.number))  # 98 before 101, as on the doors
    visited = set(
        db.scalars(
            select(Entry.room_id).where(
                Entry.kind == DORM_VISIT,
                Entry.author_id == user.id,
                Entry.deleted.is_(False),
                Entry.room_id.in_([r.id for r in rooms]),
                Entry.recorded_at >= since.astimezone(UTC),
            )
        )
    )
    return Round(shift, since, rooms, visited)
