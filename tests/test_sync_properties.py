"""Random histories of pushes from two phones: nothing lost, nothing doubled, conflicts kept.

Hypothesis makes the histories: creates, edits based on whatever revision a phone last
saw (often stale), deletes, batches resent after a lost answer, batches arriving out of
order, an out-of-scope entry in the middle of a batch, and a phone that numbers a new entry
with a number it used before. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient
from sqlalchemy import func, select

from server.models import Conflict, Entry, EntryRevision
from server.sync import merge
from server.sync.ids import new_entry_id
from tests.conftest import log_in, rooms_of_students_of, user_named
from tests.other_department import other_department
from tests.sync_helpers import pull_all

ENTRIES = 3  # ids each history works on: few, so phones collide often

step = st.one_of(
    st.tuples(st.just("create"), st.integers(0, ENTRIES - 1), st.integers(1, 5)),
    st.tuples(st.just("update"), st.integers(0, ENTRIES - 1), st.integers(1, 5)),
    st.tuples(st.just("delete"), st.integers(0, ENTRIES - 1), st.just(0)),
    st.tuples(st.just("foreign"), st.just(0), st.just(0)),
    st.tuples(st.just("reuse"), st.integers(0, 7), st.integers(1, 5)),  # a number used before
)
history = st.lists(
    st.tuples(st.integers(0, 1), st.lists(step, min_size=1, max_size=4)),  # (phone, batch)
    min_size=1,
    max_size=8,
)


@pytest.fixture(scope="module")
def counselor(app, sessionmaker):
    # the foreign room is another department's: in the small demo, counselor1's students and
    # duty shifts can cover every room of both buildings on some days
    with other_department(sessionmaker) as other, sessionmaker() as db:
        user = user_named(db, "counselor1")
        places = {"room": rooms_of_students_of(db, "counselor1")[0], "foreign": other.room_id}
        db.rollback()
        with TestClient(app) as client:
            assert log_in(client, "counselor1").status_code == 303
            yield user, client, places


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    history=history,
    order=st.randoms(use_true_random=False),
    resends=st.lists(st.integers(0, 7), max_size=4),
)
def test_random_histories_keep_every_entry_once(counselor, sessionmaker, history, order, resends):
    user, client, places = counselor
    ids = [new_entry_id() for _ in range(ENTRIES)]
    phones = [str(uuid.uuid4()), str(uuid.uuid4())]
    known = [dict(), dict()]  # what each phone last heard of each entry's revision
    numbers = [0, 0]

    def to_mutation(phone: int, op: str, k: int, stars: int) -> merge.Mutation:
        if op == "reuse" and numbers[phone]:
            number = 1 + k % numbers[phone]  # a new entry under a number this phone used
        else:
            numbers[phone] += 1
            number = numbers[phone]
        room = places["foreign"] if op == "foreign" else places["room"]
        payload = {
            "room_id": room,
            "presence": {},
            "stars": stars or None,
            "issues": [],
            "talk_notes": "",
            "concern": None,
        }
        entry_id = new_entry_id() if op in ("foreign", "reuse") else ids[k]
        return merge.Mutation(
            id=entry_id,
            op="create" if op in ("foreign", "reuse") else op,
            kind="dorm_visit",
            payload=payload,
            base_revision=known[phone].get(entry_id, 1),
            device_id=phones[phone],
            mutation_no=number,
            reason="录错了" if op == "delete" else None,
        )

    batches = [(phone, [to_mutation(phone, *s) for s in steps]) for phone, steps in history]
    arrival = batches[:]
    order.shuffle(arrival)  # batches reach the server out of order
    arrival += [batches[i] for i in resends if i < len(batches)]  # and some twice

    applied: dict[uuid.UUID, int] = {}
    conflicts = 0
    answered: set[tuple[str, int]] = set()
    claimed: dict[tuple[str, int], uuid.UUID] = {}  # the entry that first came with a number
    acknowledged: set[uuid.UUID] = set()  # creates the phone may drop (applied / duplicate)
    with sessionmaker() as db:
        for phone, batch in arrival:
            # as /sync/push does: the whole batch at once
            outcomes = merge.apply_batch(db, db.merge(user, load=False), batch)
            for m, outcome in zip(batch, outcomes, strict=True):
                number = (m.device_id, m.mutation_no)
                if claimed.setdefault(number, m.id) != m.id:
                    assert outcome.status == "rejected", "a reused number answered for another"
                    assert outcome.reason == merge.REUSED_NUMBER
                    continue
                if m.op == "create" and outcome.status in ("applied", "duplicate"):
                    acknowledged.add(m.id)
                first_time = number not in answered
                answered.add(number)
                if first_time and outcome.status == "applied":
                    applied[m.id] = applied.get(m.id, 0) + 1
                if first_time and outcome.status == "conflict":
                    conflicts += 1
                if not first_time:
                    assert outcome.status != "applied", "a resent mutation was applied twice"
                if outcome.revision:
                    known[phone][m.id] = outcome.revision
            db.commit()

        for entry_id, times in applied.items():
            entry = db.get(Entry, entry_id)
            assert entry is not None, "an applied entry was lost"
            assert entry.revision == times, "every applied change is one revision"
            revisions = db.scalars(
                select(EntryRevision.revision).where(EntryRevision.entry_id == entry_id)
            ).all()
            assert sorted(revisions) == list(range(1, times + 1))
        for entry_id in set(ids) - set(applied):
            assert db.get(Entry, entry_id) is None
        for entry_id in acknowledged:  # the phone dropped these: they must be on the server
            assert db.get(Entry, entry_id) is not None, "an acknowledged entry was never stored"
        kept = db.scalar(
            select(func.count()).select_from(Conflict).where(Conflict.device_id.in_(phones))
        )
        assert kept == conflicts, "every conflict keeps the losing version"
        server_state = {
            e.id: (e.revision, e.deleted, e.payload)
            for e in db.scalars(select(Entry).where(Entry.id.in_(ids)))
        }

    pulled: dict[uuid.UUID, tuple] = {}
    for change in pull_all(
        client
    ):  # the pull stream, replayed in order, ends at the server's state
        pulled[uuid.UUID(change["id"])] = (change["revision"], change["deleted"], change["payload"])
    assert {k: v for k, v in pulled.items() if k in set(ids)} == server_state


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    earlier=st.lists(step, max_size=3),
    batch=st.lists(
        st.tuples(step, st.booleans(), st.booleans()),  # (step, repeat its id, reuse a number)
        min_size=1,
        max_size=8,
    ),
)
def test_a_batch_answers_as_its_mutations_one_by_one(counselor, sessionmaker, earlier, batch):
    """apply_batch (the fast path of /sync/push) gives the same answers, and leaves the same
    entries, as applying the same mutations one at a time in order."""
    user, _, places = counselor
    ids = [new_entry_id() for _ in range(ENTRIES)]
    phone = str(uuid.uuid4())
    number = 0

    def to_mutation(op: str, k: int, stars: int, *, base: int = 1) -> merge.Mutation:
        nonlocal number
        if op == "reuse" and number:
            no = 1 + k % number  # a new entry under a number used before (maybe stored)
        else:
            number += 1
            no = number
        room = places["foreign"] if op == "foreign" else places["room"]
        payload = {"room_id": room, "presence": {}, "stars": stars or None, "issues": []}
        return merge.Mutation(
            id=new_entry_id() if op in ("foreign", "reuse") else ids[k],
            op="create" if op in ("foreign", "reuse") else op,
            kind="dorm_visit",
            payload=payload,
            base_revision=base,
            device_id=phone,
            mutation_no=no,
        )

    mutations = []
    for (op, k, stars), repeat_id, reuse_number in batch:
        m = to_mutation(op, k, stars)
        if repeat_id and mutations:
            m.id = mutations[-1].id  # the same entry again within the batch
        if reuse_number and mutations:
            m.mutation_no = mutations[0].mutation_no  # a number already in this batch
        mutations.append(m)

    def state(db) -> dict:
        return {
            e.id: (e.revision, e.deleted, e.payload)
            for e in db.scalars(select(Entry).where(Entry.id.in_(ids)))
        }

    with sessionmaker() as db:
        me = db.merge(user, load=False)
        for m in [to_mutation(*s) for s in earlier]:  # what the server held before the batch
            merge.apply(db, me, m)
        db.flush()
        answers = {}
        for how in ("one by one", "together"):
            with db.begin_nested() as attempt:
                if how == "together":
                    outcomes = merge.apply_batch(db, me, mutations)
                else:
                    outcomes = [merge.apply(db, me, m) for m in mutations]
                answers[how] = (
                    [(o.id, o.status, o.revision, o.reason) for o in outcomes],
                    state(db),
                )
                attempt.rollback()
        db.rollback()
    assert answers["together"] == answers["one by one"]
