"""Photos as evidence (issue 15): a visit's photos are uploaded after it (POST /sync/photos),
checked by their bytes and size, served only to those who may read the visit, never cached,
and removed with the visit's deletion."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from server import photos
from server.models import Entry, Photo
from tests.conftest import csrf_token
from tests.other_department import other_department, signed_in
from tests.photo_samples import TINY_PNG, png
from tests.test_worklog import record_visit

JPEG_START = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"


@pytest.fixture(scope="module")
def elsewhere(sessionmaker):
    with other_department(sessionmaker) as made:
        yield made


@pytest.fixture(scope="module")
def as_person(app, elsewhere):
    with signed_in(app, ["counselor1", "leader1", "counselor_x", "office1", "admin"]) as switch:
        yield switch


def upload(client, entry_id, position: int, content: bytes, content_type: str = "image/png"):
    return client.post(
        f"/sync/photos?entry_id={entry_id}&position={position}",
        content=content,
        headers={"content-type": content_type},
    )


def test_two_photos_of_a_visit_are_stored_and_a_resend_is_answered_the_same(as_person, db):
    visit = record_visit(db, "counselor1", datetime.now(UTC))
    client = as_person("counselor1")
    first = upload(client, visit, 1, TINY_PNG)
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "stored"
    assert upload(client, visit, 2, png(8, 8)).json()["status"] == "stored"
    again = upload(client, visit, 1, TINY_PNG)
    assert again.json() == {**first.json(), "status": "duplicate"}
    assert [p.position for p in photos.of_entry(db, visit)] == [1, 2]


def test_a_photo_is_served_to_the_leader_never_cached_and_refused_to_another_department(
    as_person, db
):
    visit = record_visit(db, "counselor1", datetime.now(UTC))
    photo_id = upload(as_person("counselor1"), visit, 1, TINY_PNG).json()["id"]
    for reader in ("counselor1", "leader1", "office1"):
        answer = as_person(reader).get(f"/photos/{photo_id}")
        assert answer.status_code == 200, reader
        assert answer.content == TINY_PNG
        assert answer.headers["content-type"] == "image/png"
        assert answer.headers["cache-control"] == "private, no-store"
    refused = as_person("counselor_x").get(f"/photos/{photo_id}")
    assert refused.status_code == 403
    assert "没有权限" in refused.text
    history = as_person("leader1").get(f"/entries/{visit}/history").text
    assert f'src="/photos/{photo_id}"' in history


def test_a_20_megabyte_upload_is_refused_in_chinese(as_person, db):
    visit = record_visit(db, "counselor1", datetime.now(UTC))
    big = JPEG_START + b"\x00" * (20 * 1024 * 1024)
    answer = upload(as_person("counselor1"), visit, 1, big, "image/jpeg")
    assert answer.status_code == 413
    assert "照片太大" in answer.json()["detail"]
    assert photos.of_entry(db, visit) == []


@pytest.mark.parametrize(
    "content, content_type",
    [
        (b"%PDF-1.7 not a photo", "image/jpeg"),  # claims to be a JPEG: the bytes say no
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/png"),
        (b"", "image/webp"),
    ],
)
def test_a_file_that_is_not_an_image_is_refused_in_chinese(as_person, db, content, content_type):
    visit = record_visit(db, "counselor1", datetime.now(UTC))
    answer = upload(as_person("counselor1"), visit, 1, content, content_type)
    assert answer.status_code == 415
    assert answer.json()["detail"] == photos.NOT_AN_IMAGE
    assert photos.of_entry(db, visit) == []


def test_an_upload_that_does_not_say_it_is_an_image_is_refused(as_person, db):
    visit = record_visit(db, "counselor1", datetime.now(UTC))
    answer = upload(as_person("counselor1"), visit, 1, TINY_PNG, "text/plain")
    assert answer.status_code == 415  # a cross-site form could send text/plain


def test_a_fourth_photo_and_a_photo_of_someone_elses_visit_are_refused(as_person, db):
    visit = record_visit(db, "counselor1", datetime.now(UTC))
    assert upload(as_person("counselor1"), visit, 4, TINY_PNG).status_code == 422
    answer = upload(as_person("leader1"), visit, 1, TINY_PNG)
    assert answer.status_code == 403
    assert photos.of_entry(db, visit) == []


def test_photos_go_with_the_visits_deletion(as_person, db, settings):
    visit = record_visit(db, "counselor1", datetime.now(UTC))
    client = as_person("counselor1")
    photo_id = upload(client, visit, 1, TINY_PNG).json()["id"]
    name = db.get(Photo, photo_id).file_name
    assert (settings.photo_dir / name).exists()
    deleted = client.post(
        f"/entries/{visit}/delete",
        data={"base_revision": "1", "reason": "拍错了宿舍", "_csrf_token": csrf_token(client)},
        follow_redirects=False,
    )
    assert deleted.status_code == 303, deleted.text
    db.expire_all()
    assert db.get(Entry, visit).deleted
    assert db.scalars(select(Photo).where(Photo.entry_id == visit)).all() == []
    assert not (settings.photo_dir / name).exists()
    assert as_person("leader1").get(f"/photos/{photo_id}").status_code == 404


def test_the_magic_bytes_name_the_type():
    assert photos.sniff(TINY_PNG) == "image/png"
    assert photos.sniff(JPEG_START) == "image/jpeg"
    assert photos.sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert photos.sniff(b"GIF89a") is None
