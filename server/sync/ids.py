"""Entry ids: UUIDv7, made by whoever writes the entry first (usually the phone).

UUIDv7 starts with the time, so ids sort by creation and index well.
"""

from __future__ import annotations

import uuid

import uuid_utils


def new_entry_id() -> uuid.UUID:
    return uuid.UUID(str(uuid_utils.uuid7()))


def parse_entry_id(value: str) -> uuid.UUID:
    """Accept any UUID string; raise ValueError for anything else."""
    return uuid.UUID(str(value))
