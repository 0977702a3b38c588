"""Conflicts a person resolves (issue 15): /conflicts lists the user's open conflicts from any
device, /conflicts/<id> shows both versions side by side with the differing fields marked,
保留我的 writes the phone's version as the next revision, 保留服务器的 discards it."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select

from server.models import Conflict, Entry
from server.sync import merge
from tests.conftest import csrf_token, user_named
from tests.sync_helpers import new_device, push
from tests.test_worklog import record_visit


def conflicting_visit(client, db, *, server_stars=3, mine_stars=5):
    """A visit edited online (revision 2), then an offline edit based on revision 1 pushed."""
    counselor = user_named(db, "counselor1")
    visit = record_visit(db, "counselor1", datetime.now(UTC), stars=2)
    entry = db.get(Entry, visit)
    online = merge.apply(
        db, counselor, merge.Mutation(id=visit, op="update", kind="dorm_visit",
                                      payload={**entry.payload, "stars": server_stars},
                                      base_revision=1),
    )  # fmt: skip
    db.commit()
    assert online.status == "applied"
    late = {"id": str(visit), "op": "update", "kind": "dorm_visit", "base_revision": 1,
            "payload": {**entry.payload, "stars": mine_stars}, "mutation_no": 1}  # fmt: skip
    assert push(client, [late], new_device()).json()["results"][0]["status"] == "conflict"
    conflict = db.scalar(select(Conflict).where(Conflict.entry_id == visit))
    return visit, conflict


def test_the_conflict_page_shows_both_versions_with_the_differing_fields_marked(login, db):
    client = login("counselor1")
    visit, conflict = conflicting_visit(client, db)
    assert f'href="/conflicts/{conflict.id}"' in client.get("/conflicts").text
    page = client.get(f"/entries/{visit}/conflict")
    assert page.status_code == 200
    row = re.search(r'<tr class="differs" data-differs>\s*<th scope="row">卫生星级</th>(.*?)</tr>',
                    page.text, re.S)  # fmt: skip
    assert row, page.text
    assert '<td data-side="server">3</td>' in row.group(1)
    assert '<td data-side="mine">5</td>' in row.group(1)
    assert re.search(r"<tr>\s*<th scope=\"row\">宿舍</th>", page.text), "same room: not marked"


def test_keep_mine_writes_the_phones_version_as_the_next_revision(login, db):
    client = login("counselor1")
    visit, conflict = conflicting_visit(client, db)
    answer = client.post(
        f"/conflicts/{conflict.id}/keep-mine",
        data={"_csrf_token": csrf_token(client)},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == f"/conflicts?resolved={visit}"
    db.expire_all()
    entry = db.get(Entry, visit)
    assert (entry.revision, entry.payload["stars"]) == (3, 5)
    resolved = db.get(Conflict, conflict.id)
    assert resolved.resolved and resolved.kept == "mine" and resolved.resolved_at is not None
    assert client.get(f"/conflicts/{conflict.id}").status_code == 404


def test_keep_server_discards_the_phones_version(login, db):
    client = login("counselor1")
    visit, conflict = conflicting_visit(client, db)
    answer = client.post(
        f"/conflicts/{conflict.id}/keep-server",
        data={"_csrf_token": csrf_token(client)},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    db.expire_all()
    entry = db.get(Entry, visit)
    assert (entry.revision, entry.payload["stars"]) == (2, 3)
    assert db.get(Conflict, conflict.id).kept == "server"
    assert f'href="/conflicts/{conflict.id}"' not in client.get("/conflicts").text


def test_another_persons_conflict_is_not_found(login, db):
    _, conflict = conflicting_visit(login("counselor1"), db)
    assert login("leader1").get(f"/conflicts/{conflict.id}").status_code == 404
    assert login("leader1").get("/conflicts").text.count("查看并处理") == 0
