"""Arbitrary JSON in every payload field of every kind, through /sync/push (payload and form
variants) and the online HTML form, on SQLite and PostgreSQL: never a server error, never a
changed stored entry, and a valid entry in the same batch is always applied."""

from __future__ import annotations

import uuid

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from server.kinds import KINDS
from server.models import Entry
from tests.conftest import form_csrf, log_in
from tests.sync_helpers import push
from tests.wire_samples import mutation, places

EXAMPLES = 20  # per kind; the suite must stay fast

# what a hostile or broken client sends where one value is expected
awkward = st.sampled_from(
    [0, -1, 2**31 - 1, 2**31, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 1.5, "²", "١٢", "１２",
     "\x00", "a\x00b", "\x0b", "\x1f", "", " ", "null", "true", "on", "2026-02-30",
     "0001-01-01", "9999-12-31", "0000-00-00", "12" * 2000]
)  # fmt: skip
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    awkward,
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
form_values = st.one_of(
    st.text(max_size=30),
    awkward.map(str),
    st.lists(st.text(max_size=8) | awkward.map(str), max_size=3),
)

FORM_URL = {"dorm_visit": "/visits", "attendance_check": "/attendance/checks"}


@pytest.fixture(scope="module")
def prepared(app, sessionmaker):
    """counselor1 logged in, the demo ids, and one stored entry per kind to keep intact."""
    with sessionmaker() as db:
        where = places(db)
    with TestClient(app) as client:
        assert log_in(client, "counselor1").status_code == 303
        kept = {}
        for kind in KINDS:
            sent = mutation(kind, "payload", where)
            assert push(client, [sent]).json()["results"][0]["status"] == "applied"
            kept[kind] = sent["id"]
        token = form_csrf(client.get("/records/new/plan").text)
        yield client, where, kept, token


def _stored(sessionmaker, entry_id: str) -> tuple:
    with sessionmaker() as db:
        entry = db.get(Entry, uuid.UUID(entry_id))
        return entry.revision, entry.payload, entry.deleted


def _garbled(valid: dict, draw) -> dict:
    """The valid payload (or form) with any of its fields replaced, and maybe one more."""
    out = {}
    for name, value in valid.items():
        out[name] = draw(st.one_of(st.just(value), json_values))
    if draw(st.booleans()):
        out[draw(st.text(max_size=8))] = draw(json_values)
    return out


def _run(prepared, sessionmaker, kind: str, data) -> None:
    client, where, kept, token = prepared
    before = _stored(sessionmaker, kept[kind])
    payload_m = mutation(kind, "payload", where)
    form_m = mutation(kind, "form", where)
    whole = data.draw(st.one_of(st.just(None), json_values))  # sometimes not even an object
    bad = [
        {**payload_m, "payload": _garbled(payload_m["payload"], data.draw) if whole is None else whole},
        {**form_m, "form": _garbled(form_m["form"], data.draw)},
        # the same garbage under the id of a stored entry: a create and a stale edit
        {**payload_m, "id": kept[kind], "payload": _garbled(payload_m["payload"], data.draw)},
        {**payload_m, "id": kept[kind], "op": "update", "base_revision": 999,
         "payload": _garbled(payload_m["payload"], data.draw)},
    ]  # fmt: skip
    good = mutation(kind, "payload", where)
    batch = [{**m, "mutation_no": n} for n, m in enumerate([*bad, good], start=1)]
    answer = push(client, batch)
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert len(results) == len(batch)
    assert results[-1]["status"] == "applied", results[-1]
    assert results[2]["status"] != "applied" and results[3]["status"] != "applied"
    for result in results:
        if result["status"] == "rejected":
            assert result["reason"] and "Expected" not in result["reason"]

    # the online form, posted with garbage (strings and repeated fields, as a browser can)
    fields = {
        name: data.draw(st.one_of(st.just(v), form_values)) for name, v in form_m["form"].items()
    }
    fields["entry_id"] = data.draw(st.sampled_from([kept[kind], str(uuid.uuid4()), "²"]))
    fields["_csrf_token"] = token
    response = client.post(
        FORM_URL.get(kind, f"/records/{kind}"), data=fields, follow_redirects=False
    )
    assert response.status_code < 500, response.text[:500]

    assert _stored(sessionmaker, kept[kind]) == before, "a stored entry changed"


def _test_for(kind: str):
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(data=st.data())
    def test(prepared, sessionmaker, data):
        _run(prepared, sessionmaker, kind, data)

    test.__name__ = f"test_arbitrary_json_in_a_{kind}_never_breaks_a_push_or_a_stored_entry"
    return test


for _kind in KINDS:
    _t = _test_for(_kind)
    globals()[_t.__name__] = _t


def test_every_kind_has_a_property_test():
    names = {n for n in globals() if n.startswith("test_arbitrary_json_in_a_")}
    assert names == {
        f"test_arbitrary_json_in_a_{k}_never_breaks_a_push_or_a_stored_entry" for k in KINDS
    }
    assert all(isinstance(KINDS[k].payloads[1], type(msgspec.Struct)) for k in KINDS)
