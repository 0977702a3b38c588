"""Door QR labels: signed, revocable, surviving key rotation; printed as A4 sheets."""

import csv
import io
import re
from dataclasses import replace

import pytest
from sqlalchemy import select

from server import doors
from server.cli import main as xuegong
from server.models import Room
from tests.conftest import rooms_of_students_of


def test_a_token_names_its_room(db, settings):
    room = db.get(Room, rooms_of_students_of(db, "counselor1")[0])
    assert doors.room_from_token(db, settings, doors.room_token(settings, room)).id == room.id


def test_a_tampered_token_is_refused(db, settings):
    room = db.get(Room, 1)
    token = doors.room_token(settings, room)
    # change the signed part, not the signature's last character (whose low bits base64 ignores)
    forged = ("X" if token[0] != "X" else "Y") + token[1:]
    with pytest.raises(doors.BadLabel):
        doors.room_from_token(db, settings, forged)


def test_bumping_the_label_version_revokes_old_labels(db, settings):
    room = db.get(Room, 2)
    old = doors.room_token(settings, room)
    room.label_version += 1
    db.commit()
    try:
        with pytest.raises(doors.BadLabel, match="作废"):
            doors.room_from_token(db, settings, old)
        assert doors.room_from_token(db, settings, doors.room_token(settings, room)).id == room.id
    finally:
        room.label_version -= 1
        db.commit()


def test_labels_printed_before_a_key_rotation_still_open(db, settings):
    room = db.get(Room, 3)
    printed = doors.room_token(settings, room)
    rotated = replace(settings, secret_keys=("a-brand-new-key-2027", *settings.secret_keys))
    assert doors.room_from_token(db, rotated, printed).id == room.id
    assert doors.room_token(rotated, room) != printed  # new labels use the new key


def test_a_tampered_door_url_gets_a_chinese_400_page(login):
    client = login("counselor1")
    response = client.get("/d/not-a-real-token")
    assert response.status_code == 400
    assert "二维码无法识别" in response.text
    assert "Traceback" not in response.text


def test_labels_csv_lists_every_room_with_its_door_url(capsys, settings, monkeypatch, db):
    monkeypatch.setenv("XUEGONG_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("XUEGONG_SECRET_KEYS", ",".join(settings.secret_keys))
    monkeypatch.setenv("XUEGONG_BASE_URL", "https://xg.example.edu.cn")
    assert xuegong(["labels", "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == db.query(Room).count()
    assert all(re.fullmatch(r"https://xg\.example\.edu\.cn/d/[\w.-]+", r["url"]) for r in rows)

    building = rows[0]["building"]
    assert xuegong(["labels", "--csv", "--building", building]) == 0
    only = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {r["building"] for r in only} == {building}
    assert xuegong(["labels", "--csv", "--building", "没有这栋楼"]) == 1


def test_the_label_sheet_prints_3_by_8_codes_with_large_room_numbers(login, db):
    client = login("admin")
    room = db.get(Room, 1)
    page = client.get(f"/labels/{room.building_id}")
    assert page.status_code == 200
    sheets = page.text.count('class="sheet"')
    labels = page.text.count('class="label"')
    assert labels == db.query(Room).filter_by(building_id=room.building_id).count()
    assert sheets == -(-labels // 24)
    assert page.text.count("<svg") == labels
    assert f'<span class="number">{room.number}</span>' in page.text


def test_labels_with_this_machines_address_carry_a_warning(
    login, db, capsys, settings, monkeypatch
):
    building = db.scalar(select(Room.building_id).limit(1))
    sheet = login("admin").get(f"/labels/{building}")
    assert "data-local-address" in sheet.text and "手机扫码无法访问" in sheet.text
    monkeypatch.setenv("XUEGONG_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("XUEGONG_SECRET_KEYS", ",".join(settings.secret_keys))
    monkeypatch.setenv("XUEGONG_BASE_URL", "http://127.0.0.1:8000")
    assert xuegong(["labels", "--csv"]) == 0
    assert "phones cannot open it" in capsys.readouterr().err
