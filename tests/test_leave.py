"""Staff leave (§1.9): asked for, decided once by a leader, a changed decision kept beside the first."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from server import leave
from server.clock import today
from server.models import LeaveDecision, LeaveStatus, StaffLeave
from tests.conftest import form_csrf, user_named


@pytest.fixture
def asked(db):
    """counselor1 asks for a day next month; rolled back after the test."""
    start = today() + timedelta(days=40)
    request = leave.ask(db, user_named(db, "counselor1"), start, start, "家中有事")
    db.flush()
    yield request
    db.rollback()


def test_a_leave_ending_before_it_starts_is_refused(db):
    start = today() + timedelta(days=3)
    with pytest.raises(leave.LeaveError, match="结束日期不能早于开始日期"):
        leave.ask(db, user_named(db, "counselor1"), start, start - timedelta(days=1), "探亲")


def test_a_leave_without_a_reason_is_refused(db):
    with pytest.raises(leave.LeaveError, match="请填写请假事由"):
        leave.ask(db, user_named(db, "counselor1"), today(), today(), "  ")


def test_nobody_approves_their_own_leave(db, asked):
    with pytest.raises(leave.LeaveError, match="不能审批自己的请假"):
        leave.decide(db, asked, user_named(db, "counselor1"), "approve")


def test_a_request_is_decided_once(db, asked):
    leader = user_named(db, "leader1")
    leave.decide(db, asked, leader, "approve")
    assert asked.status == LeaveStatus.approved
    with pytest.raises(leave.LeaveError, match="已经是“已批准”"):
        leave.decide(db, asked, leader, "approve")
    with pytest.raises(leave.LeaveError, match="更改决定须写明理由"):
        leave.decide(db, asked, leader, "reject")


def test_a_changed_decision_is_a_new_row_and_the_first_stays(db, asked):
    leader = user_named(db, "leader1")
    leave.decide(db, asked, leader, "approve")
    leave.decide(db, asked, leader, "reject", note="当天值班无人替换")
    db.flush()
    decisions = db.scalars(
        select(LeaveDecision).where(LeaveDecision.leave_id == asked.id).order_by(LeaveDecision.id)
    ).all()
    assert [(d.status, d.note) for d in decisions] == [
        (LeaveStatus.approved, ""),
        (LeaveStatus.rejected, "当天值班无人替换"),
    ]
    assert asked.status == LeaveStatus.rejected


def test_deciding_a_decided_leave_again_answers_409_and_changes_nothing(client, db, login):
    counselor = user_named(db, "counselor1")
    start = today() + timedelta(days=50)
    request = leave.ask(db, counselor, start, start, "体检")
    db.commit()
    try:
        page = login("leader1").get("/department/leave")
        first = client.post(
            f"/leave/{request.id}/decide",
            data={"_csrf_token": form_csrf(page.text), "decision": "reject"},
            follow_redirects=False,
        )
        assert first.status_code == 303
        again = client.post(
            f"/leave/{request.id}/decide",
            data={"_csrf_token": form_csrf(page.text), "decision": "approve"},
        )
        assert again.status_code == 409 and "更改决定须写明理由" in again.text
        db.expire_all()
        assert db.get(StaffLeave, request.id).status == LeaveStatus.rejected
        assert "未批准" in client.get("/department/leave").text
    finally:
        db.rollback()
        db.delete(db.get(StaffLeave, request.id))
        db.commit()
