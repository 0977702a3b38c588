"""Corrections and conflicts on a phone (issue 15 acceptance).

- teacher1 changes a mis-tapped 缺勤 on an attendance check without signal; back online the
  correction is the check's next revision and the 3-absence 预警 is gone.
- counselor1 corrects a visit offline from a revision that was meanwhile edited elsewhere:
  the outbox shows 冲突, opens both versions side by side, and 保留我的 makes the phone's
  version the next revision.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from server import attendance
from server.clock import today
from server.models import ClassCourse, Conflict, Entry, SchoolClass
from server.sync import merge
from server.sync.ids import new_entry_id
from tests.browser.conftest import log_in, poll
from tests.browser.test_offline import (
    SYNC_TIMEOUT_MS,
    badge,
    phone,  # noqa: F401  (the fixture: a fresh phone per test)
    wait_for_worker,
    watched,
)
from tests.conftest import user_named
from tests.test_worklog import record_visit


def kept_for_offline(page: Page, path: str) -> None:
    """Until the service worker has the page in its cache (it stores a visited page)."""
    page.wait_for_function(
        "path => caches.match(path).then(found => !!found)", arg=path, timeout=SYNC_TIMEOUT_MS
    )


def fresh(db: Session, entry_id) -> Entry:
    db.rollback()  # a fresh snapshot each time
    db.expire_all()  # and no object kept from an earlier look
    return db.get(Entry, entry_id)


def absent_three_times(db: Session, teacher, school_class: SchoolClass, student_id: int) -> list:
    course = db.scalar(
        select(ClassCourse.course_id).where(ClassCourse.class_id == school_class.id).limit(1)
    )
    made = []
    for period in ("1-2", "3-4", "7-8"):
        entry_id = new_entry_id()
        payload = {
            "class_id": school_class.id, "course_id": course, "period": period,
            "date": today().isoformat(), "marks": {str(student_id): "absent"},
            "note": f"更正测试 {uuid.uuid4().hex[:6]}",
        }  # fmt: skip
        outcome = merge.apply(
            db, teacher, merge.Mutation(id=entry_id, op="create", kind=attendance.KIND,
                                        payload=payload)  # fmt: skip
        )
        assert outcome.status == "applied", outcome.reason
        made.append(entry_id)
    db.commit()
    return made


def test_an_attendance_mark_corrected_offline_lifts_the_warning_once_synced(phone, db):  # noqa: F811
    teacher = user_named(db, "teacher1")
    school_class = db.scalar(select(SchoolClass).where(SchoolClass.class_teacher_id == teacher.id))
    student = attendance.roster(db, school_class.id)[12]
    checks = absent_three_times(db, teacher, school_class, student.id)
    edit = f"/entries/{checks[0]}/edit"
    history = f"/classes/{school_class.id}/attendance"
    errors: list[str] = []

    page = watched(phone.new_page(), errors)
    log_in(page, "teacher1")
    wait_for_worker(page)
    page.goto(history)
    expect(page.locator(f'[data-warning="{student.id}"]')).to_contain_text("缺勤 3 次")
    page.locator(f'a[href="{edit}"]').click()
    expect(page.get_by_role("button", name="保存修改")).to_be_visible()
    kept_for_offline(page, edit)

    phone.set_offline(True)
    page.goto(edit)
    expect(page.locator("[data-offline-copy]")).to_contain_text("离线 · 数据截至")
    mark = page.locator(f'input[name="mark_{student.id}"]')
    expect(mark).to_have_value("absent")
    row = page.locator("ul.roster li").filter(has=mark)
    row.get_by_role("button").click()  # 缺勤 → 迟到: the mis-tap corrected
    expect(mark).to_have_value("late")
    expect(page.locator('[data-count="absent"]')).to_have_text("0")
    page.get_by_role("button", name="保存修改").click()
    expect(page.locator("[data-saved-offline]")).to_contain_text("已离线保存，联网后自动同步")
    expect(badge(page)).to_have_text("1 条待同步")
    assert fresh(db, checks[0]).revision == 1, "the offline correction reached the server"

    phone.set_offline(False)
    expect(badge(page)).to_be_hidden(timeout=SYNC_TIMEOUT_MS)
    corrected = poll(
        lambda: (e := fresh(db, checks[0])).revision == 2 and e,
        timeout=SYNC_TIMEOUT_MS / 1000,
        what="the corrected check on the server",
    )
    assert corrected.payload["marks"] == {str(student.id): "late"}
    page.goto(history)
    expect(page.locator(f'tr[data-student="{student.id}"]')).to_be_visible()
    expect(page.locator(f'[data-warning="{student.id}"]')).to_have_count(0)
    assert not errors, "uncaught script errors:\n" + "\n".join(errors)


def test_a_conflict_is_resolved_with_keep_mine_from_the_outbox(phone, db):  # noqa: F811
    counselor = user_named(db, "counselor1")
    visit = record_visit(db, "counselor1", datetime.now(UTC), stars=2)
    edit = f"/entries/{visit}/edit"
    errors: list[str] = []

    page = watched(phone.new_page(), errors)
    log_in(page, "counselor1")
    wait_for_worker(page)
    page.goto(edit)
    expect(page.locator('input[name="base_revision"]').first).to_have_value("1")
    kept_for_offline(page, edit)

    # meanwhile the same visit is corrected online (another device): revision 2, 3 stars
    entry = fresh(db, visit)
    online = merge.apply(
        db, counselor, merge.Mutation(id=visit, op="update", kind="dorm_visit",
                                      payload={**entry.payload, "stars": 3}, base_revision=1)
    )  # fmt: skip
    db.commit()
    assert online.status == "applied"

    phone.set_offline(True)
    page.goto(edit)
    expect(page.locator("[data-offline-copy]")).to_contain_text("离线 · 数据截至")
    page.locator("form.visit label.chip", has_text="5星").click()
    page.get_by_role("button", name="保存修改").click()
    expect(page.locator("[data-saved-offline]")).to_contain_text("已离线保存，联网后自动同步")

    phone.set_offline(False)
    page.goto("/outbox")
    item = page.locator(f'li.outbox-item[data-id="{visit}"]')
    expect(item.locator('[data-field="status"]')).to_have_text("冲突", timeout=SYNC_TIMEOUT_MS)
    item.get_by_role("link", name="查看并处理").click()

    expect(page).to_have_url(re.compile(r"/entries/.+/conflict$"))
    stars = page.locator("table.compare tr", has_text="卫生星级")
    expect(stars).to_have_attribute("data-differs", "")
    expect(stars.locator('[data-side="server"]')).to_have_text("3")
    expect(stars.locator('[data-side="mine"]')).to_have_text("5")
    expect(page.locator("table.compare tr", has_text="宿舍")).not_to_have_attribute(
        "data-differs", ""
    )
    page.get_by_role("button", name="保留我的").click()

    expect(page.locator("[data-conflict-resolved]")).to_contain_text("冲突已处理")
    expect(badge(page)).to_be_hidden()  # the phone's copy left the outbox
    kept = fresh(db, visit)
    assert kept.revision == 3 and kept.payload["stars"] == 5
    conflict = db.scalar(select(Conflict).where(Conflict.entry_id == visit))
    assert conflict.resolved and conflict.kept == "mine"
    page.goto("/outbox")
    expect(page.locator(f'li.outbox-item[data-id="{visit}"]')).to_have_count(0)
    assert not errors, "uncaught script errors:\n" + "\n".join(errors)
