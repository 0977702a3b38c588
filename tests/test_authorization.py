"""Each route × each person: who gets the page or may post, who gets 403, who logs in first.

The table covers every route of the app, GET and POST (a new route without a row fails
`test_the_table_covers_every_route`). The people are the demo's (`admin`, `office1`,
`leader1`, `counselor1`, `teacher1`, all of 信息工程系) and a second department's
(`leader_x`, `counselor_x`, `teacher_x`, tests/other_department.py).

A POST row posts made-up content that the person, if allowed, gets refused for its content
(422, 400, 404 …) so nothing changes: the table checks who is let through, the area's own
tests check what is saved. Refused forms drawing out-of-scope students: the end of the file.
"""

import secrets
from datetime import UTC, datetime, timedelta

import pytest
from litestar.testing import TestClient
from sqlalchemy import delete, select, update

from server import discipline, doors, escalations, second_classroom
from server.clock import today
from server.kinds import RECORD_KINDS
from server.models import (
    Activity,
    AssessmentRules,
    ClassCourse,
    Conflict,
    DisciplineStep,
    DutyShift,
    Entry,
    EntryRevision,
    Escalation,
    EvaluationPublication,
    EvaluationRound,
    Guardian,
    ImportRun,
    ImportStatus,
    LeaveStatus,
    Photo,
    RetakeReport,
    Room,
    SchoolClass,
    SensitiveRead,
    StaffLeave,
    Student,
    SwapRequest,
    SwapStatus,
    User,
)
from server.sync import merge
from server.sync.ids import new_entry_id
from tests.conftest import log_in, room_outside_scope, rooms_of_students_of, user_named
from tests.other_department import other_department, signed_in
from tests.photo_samples import TINY_PNG
from tests.test_worklog import record_visit

OK, FORBIDDEN, EXPIRED, NOT_FOUND = 200, 403, 401, 404
LOGIN = "login"  # a page: redirected to the login form
PASSES = "passes"  # a post let through: refused for its made-up content, never 401/403/5xx
PEOPLE = [
    "anonymous", "admin", "office1",
    "leader1", "leader_x", "counselor1", "counselor_x", "teacher1", "teacher_x",
]  # fmt: skip


def answers(default, *, anonymous=LOGIN, **people) -> dict:
    """What each person gets: `default` unless named."""
    assert set(people) <= set(PEOPLE), set(people) - set(PEOPLE)
    return {"anonymous": anonymous} | {p: people.get(p, default) for p in PEOPLE[1:]}


PUBLIC = answers(OK, anonymous=OK)
STAFF = answers(OK)
LEADERS = answers(FORBIDDEN, admin=OK, office1=OK, leader1=OK, leader_x=OK)
DEPT1_LEADERS_POST = answers(FORBIDDEN, admin=PASSES, office1=PASSES, leader1=PASSES)
OUTSIDE_DEPT1 = dict(leader_x=FORBIDDEN, counselor_x=FORBIDDEN, teacher_x=FORBIDDEN)

# "METHOD path template" → answers; {name} is filled from the `places` fixture
GETS = {
    "/": STAFF,
    "/records": STAFF,
    "/login": PUBLIC,
    "/sw.js": PUBLIC,
    # a room's visit form: the rooms where one's students sleep, one's duty building today
    # (counselor1 walks tonight's round), a leader their department's, the office and admin all
    "/rooms/{own_room}/visit": answers(OK, **OUTSIDE_DEPT1),
    "/d/{own_door}": answers(OK, **OUTSIDE_DEPT1),
    "/rooms/{foreign_room}/visit": answers(OK, teacher1=FORBIDDEN, **OUTSIDE_DEPT1),
    "/rooms/{other_room}/visit": answers(
        OK, leader1=FORBIDDEN, counselor1=FORBIDDEN, teacher1=FORBIDDEN
    ),
    # 找宿舍: everyone searches; the results list only rooms in scope (tests/test_rooms.py)
    "/rooms/find": STAFF,
    "/rooms/find/results": STAFF,
    # the installed app: the browser fetches the manifest and icons without cookies, the
    # install page is read before logging in, the scanner page is in the offline shell
    "/manifest.webmanifest": PUBLIC,
    "/icons/{icon}": PUBLIC,
    "/favicon.ico": PUBLIC,
    "/install": PUBLIC,
    "/scan": PUBLIC,
    # the guideline's records (server/records.py): forms for everyone who writes records
    "/records/new/{record_kind}": STAFF,
    "/records/new/{no_kind}": answers(NOT_FOUND),
    "/week": STAFF,
    "/due": STAFF,
    "/leave": STAFF,
    "/account/password": STAFF,
    "/department/leave": LEADERS,
    "/department/rules": LEADERS,
    "/department/rules?department={other_department}": answers(
        FORBIDDEN, admin=OK, office1=OK, leader_x=OK
    ),
    "/department/week": LEADERS,
    # keeping the data current: leaders their department's classes, admins everything; a
    # student's contact grade and guardians by their counselor or class teacher
    "/admin/classes": answers(FORBIDDEN, admin=OK, leader1=OK, leader_x=OK),
    "/admin/classes?department={other_department}": answers(FORBIDDEN, admin=OK, leader_x=OK),
    "/admin/buildings": answers(FORBIDDEN, admin=OK),
    "/admin/buildings/{building}": answers(FORBIDDEN, admin=OK),
    "/students/{own_student}/data": answers(FORBIDDEN, admin=OK, counselor1=OK, teacher1=OK),
    "/students/{foreign_student}/data": answers(FORBIDDEN, admin=OK, counselor1=OK),
    "/students/{other_student}/data": answers(FORBIDDEN, admin=OK, counselor_x=OK, teacher_x=OK),
    # 查找学生 and a student's page (server/students.py): search finds only students in
    # scope (tests/test_students_search.py); the page opens for the classes one works with
    "/students": STAFF,
    "/students/results": STAFF,
    "/students/offline": STAFF,
    "/students/{own_student}": answers(OK, **OUTSIDE_DEPT1),
    "/students/{foreign_student}": answers(OK, teacher1=FORBIDDEN, **OUTSIDE_DEPT1),
    "/students/{other_student}": answers(
        FORBIDDEN, admin=OK, office1=OK, leader_x=OK, counselor_x=OK, teacher_x=OK
    ),
    # the lists the role homes count (server/homes.py); the office picks a department
    "/attendance/warnings": STAFF,
    "/duty/swaps/waiting": LEADERS,
    "/labels/missing": answers(FORBIDDEN, admin=OK),
    "/escalations?department={other_department}": answers(FORBIDDEN, office1=OK, leader_x=OK),
    "/duty/missed?department={other_department}": answers(
        FORBIDDEN, admin=OK, office1=OK, leader_x=OK
    ),
    "/department/week?department={other_department}": answers(
        FORBIDDEN, admin=OK, office1=OK, leader_x=OK
    ),
    "/admin/semesters": answers(FORBIDDEN, admin=OK, office1=OK),
    # accounts (tests/test_accounts_admin.py): the admin only
    "/admin/accounts": answers(FORBIDDEN, admin=OK),
    "/admin/accounts/new": answers(FORBIDDEN, admin=OK),
    "/admin/accounts/{an_account}": answers(FORBIDDEN, admin=OK),
    "/admin/password-sheet": answers(FORBIDDEN, admin=OK),
    # 工作记录: everyone reads their own log; leaders their department's, office and admin
    # anyone's; an entry's history is for whoever may read the entry
    "/log": STAFF,
    "/log?staff={counselor1}": answers(FORBIDDEN, admin=OK, office1=OK, leader1=OK, counselor1=OK),
    "/log?staff={counselor_x}": answers(
        FORBIDDEN, admin=OK, office1=OK, leader_x=OK, counselor_x=OK
    ),
    "/log.xlsx": STAFF,
    "/log.xlsx?staff={counselor1}": answers(
        FORBIDDEN, admin=OK, office1=OK, leader1=OK, counselor1=OK
    ),
    "/entries/{counselor1_entry}/history": answers(
        FORBIDDEN, admin=OK, office1=OK, leader1=OK, counselor1=OK
    ),
    # only the author edits a record (leaders read, never change, §1.4); every kind, visits too
    "/entries/{counselor1_talk}/edit": answers(FORBIDDEN, counselor1=OK),
    # after a visit: 扫下一间 / 下一间, the author's own visit only; a talk is no visit
    "/visits/{counselor1_entry}/saved": answers(FORBIDDEN, counselor1=OK),
    "/visits/{counselor1_talk}/saved": answers(FORBIDDEN, counselor1=NOT_FOUND),
    # tonight's rooms: everyone's own round (an empty list without a shift today)
    "/rounds/tonight": STAFF,
    "/entries/{counselor1_entry}/edit": answers(FORBIDDEN, counselor1=OK),
    # a visit's photo: whoever may read the visit (its history's row), 403 for anyone else
    "/photos/{counselor1_photo}": answers(
        FORBIDDEN, admin=OK, office1=OK, leader1=OK, counselor1=OK
    ),
    # conflicts are their author's: the list is everyone's own; anyone else's is not found
    "/conflicts": STAFF,
    "/conflicts/{counselor1_conflict}": answers(NOT_FOUND, counselor1=OK),
    # the outbox's link: the entry's open conflict of one's own, else the list (303)
    "/entries/{counselor1_talk}/conflict": answers(303, counselor1=OK),
    "/department/records": LEADERS,
    # escalations carry sensitive notes: leaders and the office, not admin (scope.py)
    "/escalations": answers(FORBIDDEN, office1=OK, leader1=OK, leader_x=OK),
    "/audit": answers(FORBIDDEN, office1=OK),
    # 关注上报 handled to the end (server/escalations.py): the list for leaders and the office,
    # one escalation for them and its reporter, the reporter's own list for everyone
    "/escalations?state=overdue": answers(FORBIDDEN, office1=OK, leader1=OK, leader_x=OK),
    "/escalations/mine": STAFF,
    "/escalations/{counselor1_escalation}": answers(
        FORBIDDEN, office1=OK, leader1=OK, counselor1=OK
    ),
    "/escalations/{no_escalation}": answers(NOT_FOUND),
    # 违纪处理 (§1.8): counselors their own cases, leaders their department's, the office
    # every one; admin and class teachers none (a case names an offence and a sanction)
    "/discipline": answers(
        FORBIDDEN, office1=OK, leader1=OK, leader_x=OK, counselor1=OK, counselor_x=OK
    ),
    "/discipline/{counselor1_case}": answers(FORBIDDEN, office1=OK, leader1=OK, counselor1=OK),
    "/discipline/{no_case}": answers(NOT_FOUND),
    "/discipline/export": answers(FORBIDDEN, office1=OK, leader1=OK, leader_x=OK),
    "/discipline/export?department={other_department}": answers(
        FORBIDDEN, office1=OK, leader_x=OK
    ),
    # the college import (server/routes/admin_import.py): the admin only
    "/admin/import": answers(FORBIDDEN, admin=OK),
    "/admin/cohorts": answers(FORBIDDEN, admin=OK),
    "/admin/import/template.xlsx": answers(FORBIDDEN, admin=OK),
    "/admin/import/{import_run}": answers(FORBIDDEN, admin=OK),
    "/admin/import/{import_run}/progress": answers(FORBIDDEN, admin=OK),
    "/labels": answers(FORBIDDEN, admin=OK),
    "/labels/{building}": answers(FORBIDDEN, admin=OK),
    # 检查上课: the class teacher and the counselor record checks; leaders, office and admin
    # read a class's history. counselor1 covers every class of the small demo college.
    "/attendance": STAFF,
    "/classes/{own_class}/attendance/new": answers(FORBIDDEN, counselor1=OK, teacher1=OK),
    "/classes/{foreign_class}/attendance/new": answers(FORBIDDEN, counselor1=OK),
    "/classes/{other_class}/attendance/new": answers(FORBIDDEN, counselor_x=OK, teacher_x=OK),
    "/classes/{own_class}/attendance": answers(
        FORBIDDEN, admin=OK, office1=OK, leader1=OK, counselor1=OK, teacher1=OK
    ),
    "/classes/{foreign_class}/attendance": answers(
        FORBIDDEN, admin=OK, office1=OK, leader1=OK, counselor1=OK
    ),
    "/classes/{other_class}/attendance": answers(
        FORBIDDEN, admin=OK, office1=OK, leader_x=OK, counselor_x=OK, teacher_x=OK
    ),
    "/classes/{own_class}/course-roles": answers(FORBIDDEN, counselor1=OK, teacher1=OK),
    "/classes/{foreign_class}/course-roles/{foreign_course}": answers(FORBIDDEN, counselor1=OK),
    "/classes/{other_class}/course-roles/{other_course}": answers(
        FORBIDDEN, counselor_x=OK, teacher_x=OK
    ),
    # 值班: everyone reads the roster and prints it; leaders build it and see missed rounds;
    # only the person on a shift asks to swap it
    "/duty": STAFF,
    "/duty/roster.xlsx": STAFF,
    "/duty/roster": LEADERS,
    "/duty/roster?department={other_department}": answers(
        FORBIDDEN, admin=OK, office1=OK, leader_x=OK
    ),
    "/duty/missed": LEADERS,
    "/duty/shifts/{counselor1_shift}/swap": answers(FORBIDDEN, counselor1=OK),
    "/duty/shifts/{counselor_x_shift}/swap": answers(FORBIDDEN, counselor_x=OK),
    # 第二课堂 (§2.10): everyone lists what they see; department staff propose; an activity is
    # for its proposer, the staff of its classes, the department's leaders, office and admin
    "/activities": STAFF,
    "/activities/new": answers(OK, admin=FORBIDDEN, office1=FORBIDDEN),
    "/activities/{activity}": answers(OK, **OUTSIDE_DEPT1),
    # semester-start duties (§1.7, §2.6.1, §1.3): a counselor's own grades analysis, read by
    # the leaders of their department, the office and admin; the leaders' lists
    "/grades": answers(FORBIDDEN, counselor1=OK, counselor_x=OK),
    "/grades?counselor={counselor1}": answers(
        FORBIDDEN, admin=OK, office1=OK, leader1=OK, counselor1=OK
    ),
    "/grades/report.xlsx": answers(FORBIDDEN, counselor1=OK, counselor_x=OK),
    "/grades/report.xlsx?counselor={counselor1}": answers(
        FORBIDDEN, admin=OK, office1=OK, leader1=OK, counselor1=OK
    ),
    "/department/retake-reports": LEADERS,
    "/department/retake-reports?department={other_department}": answers(
        FORBIDDEN, admin=OK, office1=OK, leader_x=OK
    ),
    "/department/first-lessons": LEADERS,
    "/department/plans": LEADERS,
    "/department/plans?department={other_department}": answers(
        FORBIDDEN, admin=OK, office1=OK, leader_x=OK
    ),
    "/healthz": PUBLIC,
    # 宿舍评比 (§2.9): leaders read their department's rounds and the college's, office and
    # admin all; leaders and the office open rounds; the 公示 link needs no login at all
    "/evaluations": LEADERS,
    "/evaluations/new": answers(FORBIDDEN, office1=OK, leader1=OK, leader_x=OK),
    "/evaluations/five-star": LEADERS,
    "/evaluations/five-star?department={other_department}": answers(
        FORBIDDEN, admin=OK, office1=OK, leader_x=OK
    ),
    "/evaluations/{dept1_round}": answers(FORBIDDEN, admin=OK, office1=OK, leader1=OK),
    "/evaluations/{dept1_round}/export.xlsx": answers(FORBIDDEN, admin=OK, office1=OK, leader1=OK),
    "/p/{public_token}": PUBLIC,
    "/p/{public_token}/export.xlsx": PUBLIC,
    "/p/{revoked_token}": answers(NOT_FOUND, anonymous=NOT_FOUND),
    "/p/{revoked_token}/export.xlsx": answers(NOT_FOUND, anonymous=NOT_FOUND),
    # the offline shell: readable without a session, so a phone whose login expired still opens it
    "/outbox": PUBLIC,
    "/offline": PUBLIC,
    "/offline/door": PUBLIC,
    "/offline/saved": PUBLIC,
    "/offline/shell": PUBLIC,  # the four above in one response, for the worker's install
    "/rounds/plan": STAFF,
    "/rounds/rooms": STAFF,  # the door pages of the plan, in one response
    # JSON for phones: an expired login is 401, never a redirect to a page
    "/sync/pull": answers(OK, anonymous=EXPIRED),
    "/sync/conflicts": answers(OK, anonymous=EXPIRED),
    # 考核 (§4, server/routes/assessment.py): leaders their department's, office and admin any;
    # a person's breakdown for themselves too; filing and the college overview for the office
    "/assessment": LEADERS,
    "/assessment?department={other_department}": answers(
        FORBIDDEN, admin=OK, office1=OK, leader_x=OK
    ),
    "/assessment/people/{assessed}": answers(
        FORBIDDEN, admin=OK, office1=OK, leader1=OK, counselor1=OK
    ),
    "/assessment/rules": LEADERS,
    "/assessment/rules/{other_rules}": answers(FORBIDDEN, admin=OK, office1=OK, leader_x=OK),
    "/assessment/filings": answers(FORBIDDEN, office1=OK),
    "/assessment/group": LEADERS,
    "/assessment/sheet.xlsx": LEADERS,
    "/assessment/records.xlsx": LEADERS,
    "/assessment/records.xlsx?department={other_department}": answers(
        FORBIDDEN, admin=OK, office1=OK, leader_x=OK
    ),
    "/assessment/charts": LEADERS,
    "/assessment/office": answers(FORBIDDEN, office1=OK),
}

POSTS = {
    # path template → (form or JSON body, answers); an anonymous post is 401 (no redirect)
    # 考核: empty forms are refused for their content (no period, no version, no members)
    "/assessment/rules/save": ({}, answers(FORBIDDEN, anonymous=EXPIRED, admin=PASSES,
                                           office1=PASSES, leader1=PASSES, leader_x=PASSES)),
    "/assessment/rules/file": ({}, answers(FORBIDDEN, anonymous=EXPIRED, admin=PASSES,
                                           office1=PASSES, leader1=PASSES, leader_x=PASSES)),
    "/assessment/rules/{other_rules}/decide": (
        {}, answers(FORBIDDEN, anonymous=EXPIRED, office1=PASSES)
    ),
    "/assessment/group/save": (
        {}, answers(FORBIDDEN, anonymous=EXPIRED, leader1=PASSES, leader_x=PASSES)
    ),
    "/assessment/manual": ({}, answers(FORBIDDEN, anonymous=EXPIRED, admin=PASSES,
                                       office1=PASSES, leader1=PASSES, leader_x=PASSES)),
    "/assessment/confirm": ({}, answers(FORBIDDEN, anonymous=EXPIRED, admin=PASSES,
                                        office1=PASSES, leader1=PASSES, leader_x=PASSES)),
    "/visits": (
        {"room_id": "{own_room}", "stars": "9"},
        answers(PASSES, anonymous=EXPIRED, **OUTSIDE_DEPT1),
    ),
    "/attendance/checks": (
        {"class_id": "{own_class}"},
        answers(FORBIDDEN, anonymous=EXPIRED, counselor1=PASSES, teacher1=PASSES),
    ),
    "/classes/{own_class}/course-roles/{no_course}/save": (
        {},
        answers(FORBIDDEN, anonymous=EXPIRED, counselor1=NOT_FOUND, teacher1=NOT_FOUND),
    ),
    "/classes/{other_class}/course-roles/{no_course}/save": (
        {},
        answers(FORBIDDEN, anonymous=EXPIRED, counselor_x=NOT_FOUND, teacher_x=NOT_FOUND),
    ),
    "/records/{record_kind}": ({}, answers(PASSES, anonymous=EXPIRED)),
    # the import: a form without a file, and steps of an import that was refused already
    "/admin/import/uploads": ({}, answers(FORBIDDEN, anonymous=EXPIRED, admin=PASSES)),
    "/admin/import/{import_run}/check": ({}, answers(FORBIDDEN, anonymous=EXPIRED, admin=PASSES)),
    "/admin/import/{import_run}/apply": ({}, answers(FORBIDDEN, anonymous=EXPIRED, admin=PASSES)),
    "/entries/{counselor1_talk}/revisions": (
        {},
        answers(FORBIDDEN, anonymous=EXPIRED, counselor1=PASSES),
    ),
    # deleting: the author only; without a reason it is refused (422) and nothing changes
    "/entries/{counselor1_talk}/delete": (
        {},
        answers(FORBIDDEN, anonymous=EXPIRED, counselor1=PASSES),
    ),
    # 保留我的 with an empty version is refused by the talk's checks: the conflict stays open
    "/conflicts/{counselor1_conflict}/keep-mine": (
        {},
        answers(NOT_FOUND, anonymous=EXPIRED, counselor1=PASSES),
    ),
    "/conflicts/{counselor1_spare_conflict}/keep-server": (
        {},
        answers(NOT_FOUND, anonymous=EXPIRED, counselor1=PASSES),
    ),
    "/leave/requests": ({}, answers(PASSES, anonymous=EXPIRED)),
    # the case is decided already: the one person who may take each step is refused for
    # the case's state (409), everyone else for who they are
    "/discipline/{counselor1_case}/submit": (
        {},
        answers(FORBIDDEN, anonymous=EXPIRED, counselor1=PASSES),
    ),
    "/discipline/{counselor1_case}/review": (
        {"decision": "agree"},
        answers(FORBIDDEN, anonymous=EXPIRED, leader1=PASSES),
    ),
    "/discipline/{counselor1_case}/approve": (
        {"decision": "approve"},
        answers(FORBIDDEN, anonymous=EXPIRED, office1=PASSES),
    ),
    # the escalation is closed already: those who handle it are refused for its state (409)
    "/escalations/{counselor1_escalation}/acknowledge": (
        {},
        answers(FORBIDDEN, anonymous=EXPIRED, office1=PASSES, leader1=PASSES),
    ),
    "/escalations/{counselor1_escalation}/notes": (
        {"text": "测试"},
        answers(FORBIDDEN, anonymous=EXPIRED, office1=PASSES, leader1=PASSES),
    ),
    "/escalations/{counselor1_escalation}/assign": (
        {"assignee": "{counselor1}"},
        answers(FORBIDDEN, anonymous=EXPIRED, office1=PASSES, leader1=PASSES),
    ),
    "/escalations/{counselor1_escalation}/close": (
        {"outcome": "测试"},
        answers(FORBIDDEN, anonymous=EXPIRED, office1=PASSES, leader1=PASSES),
    ),
    "/leave/{counselor1_leave}/decide": (
        {"decision": "reject"},
        DEPT1_LEADERS_POST | {"anonymous": EXPIRED},
    ),
    "/log/reviews": (
        {"staff": "{counselor1}", "week": "{monday}", "comment": "长" * 3000},
        answers(FORBIDDEN, anonymous=EXPIRED, leader1=PASSES, office1=PASSES),
    ),
    "/department/rules/save": (
        {"department_id": "{department}", "cadence_special": "不是数字"},
        DEPT1_LEADERS_POST | {"anonymous": EXPIRED},
    ),
    "/duty/windows": (
        {"department_id": "{department}", "morning_starts": "25:99"},
        DEPT1_LEADERS_POST | {"anonymous": EXPIRED},
    ),
    "/duty/roster/draft": (
        {"department_id": "{department}"},
        DEPT1_LEADERS_POST | {"anonymous": EXPIRED},
    ),
    "/duty/roster/check": (
        {"department_id": "{department}"},
        DEPT1_LEADERS_POST | {"anonymous": EXPIRED},
    ),
    "/duty/roster/save": (
        {"department_id": "{department}"},
        DEPT1_LEADERS_POST | {"anonymous": EXPIRED},
    ),
    "/duty/swaps": (
        {"shift_id": "{counselor1_shift}"},
        answers(FORBIDDEN, anonymous=EXPIRED, counselor1=PASSES),
    ),
    "/duty/swaps/{swap}/answer": (
        {"answer": "accept"},
        answers(FORBIDDEN, anonymous=EXPIRED, teacher1=PASSES),
    ),
    "/duty/swaps/{swap}/decide": (
        {"decision": "approve"},
        DEPT1_LEADERS_POST | {"anonymous": EXPIRED},
    ),
    "/admin/classes/{own_class}/assign": (
        {},
        answers(FORBIDDEN, anonymous=EXPIRED, admin=PASSES, leader1=PASSES),
    ),
    "/admin/buildings/add": ({"name": ""}, answers(FORBIDDEN, anonymous=EXPIRED, admin=PASSES)),
    "/admin/buildings/{building}/rename": (
        {"name": ""},
        answers(FORBIDDEN, anonymous=EXPIRED, admin=PASSES),
    ),
    "/admin/buildings/{building}/rooms/add": (
        {"number": ""},
        answers(FORBIDDEN, anonymous=EXPIRED, admin=PASSES),
    ),
    "/admin/rooms/{own_room}/save": (
        {"number": ""},
        answers(FORBIDDEN, anonymous=EXPIRED, admin=PASSES),
    ),
    "/admin/rooms/{no_room}/revoke-label": (
        {},
        answers(FORBIDDEN, anonymous=EXPIRED, admin=NOT_FOUND),
    ),
    "/students/{own_student}/contact-grade": (
        {"grade": "不存在的等级"},
        answers(FORBIDDEN, anonymous=EXPIRED, admin=PASSES, counselor1=PASSES),
    ),
    "/students/{other_student}/contact-grade": (
        {"grade": "不存在的等级"},
        answers(FORBIDDEN, anonymous=EXPIRED, admin=PASSES, counselor_x=PASSES),
    ),
    "/students/{own_student}/guardians/add": (
        {"name": ""},
        answers(FORBIDDEN, anonymous=EXPIRED, admin=PASSES, counselor1=PASSES, teacher1=PASSES),
    ),
    "/guardians/{own_guardian}/save": (
        {"name": ""},
        answers(FORBIDDEN, anonymous=EXPIRED, admin=PASSES, counselor1=PASSES, teacher1=PASSES),
    ),
    # removing works: each case removes a guardian made for it
    "/guardians/{fresh_guardian}/remove": (
        {},
        answers(FORBIDDEN, anonymous=EXPIRED, admin=PASSES, counselor1=PASSES, teacher1=PASSES),
    ),
    "/students/{own_student}/bed": (
        {"room_id": "0"},
        answers(FORBIDDEN, anonymous=EXPIRED, admin=PASSES),
    ),
    # a status or class that does not exist: refused (422), nothing changed
    "/students/{own_student}/status": (
        {"status": "gone"},
        answers(FORBIDDEN, anonymous=EXPIRED, admin=PASSES),
    ),
    "/students/{own_student}/class": (
        {"class_id": "0"},
        answers(FORBIDDEN, anonymous=EXPIRED, admin=PASSES),
    ),
    # no year: refused (422), nothing graduated
    "/admin/cohorts/graduate": ({}, answers(FORBIDDEN, anonymous=EXPIRED, admin=PASSES)),
    "/admin/semesters/save": (
        {"name": ""},
        answers(FORBIDDEN, anonymous=EXPIRED, admin=PASSES, office1=PASSES),
    ),
    # accounts: a username that cannot be, or an account that does not exist
    "/admin/accounts/create": (
        {"username": ""},
        answers(FORBIDDEN, anonymous=EXPIRED, admin=PASSES),
    ),
    "/admin/accounts/{no_account}/save": (
        {"name": ""},
        answers(FORBIDDEN, anonymous=EXPIRED, admin=NOT_FOUND),
    ),
    "/admin/accounts/{no_account}/disable": (
        {},
        answers(FORBIDDEN, anonymous=EXPIRED, admin=NOT_FOUND),
    ),
    "/admin/accounts/{no_account}/enable": (
        {},
        answers(FORBIDDEN, anonymous=EXPIRED, admin=NOT_FOUND),
    ),
    "/admin/accounts/{no_account}/reset-password": (
        {},
        answers(FORBIDDEN, anonymous=EXPIRED, admin=NOT_FOUND),
    ),
    "/admin/accounts/{no_account}/end-sessions": (
        {},
        answers(FORBIDDEN, anonymous=EXPIRED, admin=NOT_FOUND),
    ),
    "/admin/password-sheet/issue": ({}, answers(FORBIDDEN, anonymous=EXPIRED, admin=PASSES)),
    # 宿舍评比: a round without a period is refused (422); publishing and revoking a round of
    # 信息工程系 is for its leader and the office (a leader of another department gets 403)
    "/evaluations/create": (
        {"period": ""},
        answers(FORBIDDEN, anonymous=EXPIRED, office1=PASSES, leader1=PASSES, leader_x=PASSES),
    ),
    "/evaluations/{dept1_round}/publish": (
        {},
        answers(FORBIDDEN, anonymous=EXPIRED, office1=PASSES, leader1=PASSES),
    ),
    "/evaluations/{dept1_round}/revoke": (
        {},
        answers(FORBIDDEN, anonymous=EXPIRED, office1=PASSES, leader1=PASSES),
    ),
    "/login": ({"username": "nobody"}, answers(PASSES, anonymous=PASSES)),
    "/logout": ({}, answers(PASSES, anonymous=EXPIRED)),
    "/account/password/change": (
        {"current_password": "wrong", "new_password": "x", "new_password_again": "x"},
        answers(PASSES, anonymous=EXPIRED),
    ),
    # 第二课堂: a decision or outcome that does not exist is refused (409), nothing changes
    "/activities/create": ({}, answers(PASSES, anonymous=EXPIRED, admin=FORBIDDEN, office1=FORBIDDEN)),
    "/activities/{activity}/decide": (
        {"decision": "nonsense"},
        answers(FORBIDDEN, anonymous=EXPIRED, counselor1=PASSES, leader1=PASSES),
    ),
    "/activities/{activity}/complete": (
        {"outcome": "nonsense"},
        answers(FORBIDDEN, anonymous=EXPIRED, counselor1=PASSES, leader1=PASSES, teacher1=PASSES),
    ),
    # a counselor marks their own report submitted (the rows made are removed afterwards)
    "/grades/report/submit": (
        {},
        answers(FORBIDDEN, anonymous=EXPIRED, counselor1=PASSES, counselor_x=PASSES),
    ),
    # JSON
    "/sync/push": (
        {"json": {"device_id": "{device}", "mutations": []}},
        answers(OK, anonymous=EXPIRED),
    ),
    # a photo's bytes: only the entry's author is let through (refused here as no image)
    "/sync/photos?entry_id={counselor1_entry}&position=1": (
        {"raw": b"not an image"},
        answers(FORBIDDEN, anonymous=EXPIRED, counselor1=415),
    ),
    "/sync/conflicts/{counselor1_conflict}/resolve": (
        {"json": {"keep": "server"}},
        answers(NOT_FOUND, anonymous=EXPIRED, counselor1=OK),
    ),
}

# the rules read as written (issue 13): weekly meetings and 班会手册, leaders' tasks (§1.4),
# 综合素质测评 (§1.6): recorded and submitted by the class's class teacher
GETS |= {
    "/department/meetings": LEADERS,
    "/department/meetings?department={other_department}": answers(
        FORBIDDEN, admin=OK, office1=OK, leader_x=OK
    ),
    "/classes/{own_class}/meetings": answers(OK, **OUTSIDE_DEPT1),
    "/classes/{other_class}/meetings": answers(
        FORBIDDEN, admin=OK, office1=OK, leader_x=OK, counselor_x=OK, teacher_x=OK
    ),
    "/tasks": STAFF,
    "/quality": STAFF,
    "/quality/classes/{own_class}": answers(FORBIDDEN, teacher1=OK),
    "/quality/classes/{other_class}": answers(FORBIDDEN, teacher_x=OK),
    "/department/quality": LEADERS,
    "/duty/leave-clashes": LEADERS,
    "/course-teachers": STAFF,
    "/duty/leave-clashes?department={other_department}": answers(
        FORBIDDEN, admin=OK, office1=OK, leader_x=OK
    ),
    "/department/quality?department={other_department}": answers(
        FORBIDDEN, admin=OK, office1=OK, leader_x=OK
    ),
}
POSTS |= {
    "/tasks/assign": (
        {"title": ""},
        answers(FORBIDDEN, anonymous=EXPIRED, office1=PASSES, leader1=PASSES, leader_x=PASSES),
    ),
    "/tasks/parts/{no_task_part}/done": ({"note": ""}, answers(NOT_FOUND, anonymous=EXPIRED)),
    "/quality/classes/{own_class}/results": (
        {"year": "bad"},
        answers(FORBIDDEN, anonymous=EXPIRED, teacher1=PASSES),
    ),
    "/quality/classes/{own_class}/submit": (
        {"year": "bad"},
        answers(FORBIDDEN, anonymous=EXPIRED, teacher1=PASSES),
    ),
}

CASES = [("GET", path, person) for path in GETS for person in PEOPLE] + [
    ("POST", path, person) for path in POSTS for person in PEOPLE
]


@pytest.fixture(scope="module")
def elsewhere(sessionmaker):
    with other_department(sessionmaker) as made:
        yield made


@pytest.fixture(scope="module")
def places(sessionmaker, settings, elsewhere):
    with sessionmaker() as db:
        own = rooms_of_students_of(db, "teacher1")[0]
        foreign = room_outside_scope(db, "teacher1")
        teacher1, counselor1 = user_named(db, "teacher1"), user_named(db, "counselor1")
        classes = {
            c.class_teacher_id == teacher1.id: c
            for c in db.scalars(
                select(SchoolClass)
                .where(SchoolClass.department_id == teacher1.department_id)
                .order_by(SchoolClass.id)
            )
        }
        foreign_course = db.scalar(
            select(ClassCourse.course_id).where(ClassCourse.class_id == classes[False].id).limit(1)
        )
        shift = db.scalar(
            select(DutyShift.id)
            .where(DutyShift.staff_id == counselor1.id, DutyShift.date == today())
            .order_by(DutyShift.id)
        )
        talk = record_talk(db, "counselor1")
        # a swap already refused by teacher1 and a leave already refused: answering, deciding
        # them again is refused for its state (or rewrites the same answer), never changes a roster
        swap = SwapRequest(
            shift_id=shift, requester_id=counselor1.id, colleague_id=teacher1.id,
            department_id=counselor1.department_id, status=SwapStatus.refused,
        )  # fmt: skip
        leave = StaffLeave(
            staff_id=counselor1.id, department_id=counselor1.department_id, start=today(),
            end=today(), reason="测试", status=LeaveStatus.rejected,
        )  # fmt: skip
        conflict, spare_conflict = (
            Conflict(
                entry_id=talk, author_id=counselor1.id, op="update", payload={}, base_revision=1,
                server_revision=1,
            )
            for _ in range(2)
        )  # fmt: skip
        visit = record_visit(db, "counselor1", datetime.now(UTC))
        photo = Photo(
            entry_id=visit, position=1, content_type="image/png", size=len(TINY_PNG),
            file_name="authorization-table.png", uploaded_by=counselor1.id,
        )  # fmt: skip
        settings.photo_dir.mkdir(parents=True, exist_ok=True)
        (settings.photo_dir / photo.file_name).write_bytes(TINY_PNG)
        own_student = db.scalar(
            select(Student.id).where(Student.class_id == classes[True].id).limit(1)
        )
        guardian = Guardian(student_id=own_student, name=SPARE_GUARDIAN, relation="母亲")
        db.add_all([swap, leave, conflict, spare_conflict, guardian, photo])
        db.commit()
        activity = second_classroom.propose(
            db, teacher1, category="lecture", title="授权表的活动", high_level=True,
            organiser="班级", day=today() + timedelta(days=5), place="报告厅", grades=[],
            class_ids=[classes[True].id], expected="30", safety="专人负责", today=today(),
        )  # fmt: skip
        db.commit()
        made = {
            "own_room": own,
            "own_door": doors.room_token(settings, db.get(Room, own)),
            "foreign_room": foreign,
            "other_room": elsewhere.room_id,
            "building": db.get(Room, own).building_id,
            "icon": "icon-192.png",
            "record_kind": "talk",
            "no_kind": "nonsense",
            "own_class": classes[True].id,
            "foreign_class": classes[False].id,
            "other_class": elsewhere.class_id,
            "foreign_course": foreign_course,
            "other_course": elsewhere.course_id,
            "no_course": 0,
            "no_room": 0,
            "no_account": 0,
            "an_account": counselor1.id,
            "own_student": own_student,
            "foreign_student": db.scalar(
                select(Student.id).where(Student.class_id == classes[False].id).limit(1)
            ),
            "other_student": db.scalar(
                select(Student.id).where(Student.class_id == elsewhere.class_id).limit(1)
            ),
            "own_guardian": guardian.id,
            "department": counselor1.department_id,
            "other_department": elsewhere.id,
            "counselor1_shift": shift,
            "counselor_x_shift": elsewhere.shift_id,
            "counselor1": counselor1.id,
            "counselor_x": elsewhere.people["counselor_x"],
            "counselor1_entry": visit,
            "counselor1_photo": photo.id,
            "counselor1_spare_conflict": spare_conflict.id,
            "counselor1_talk": talk,
            "counselor1_case": decided_case(db),
            "no_case": str(new_entry_id()),
            "import_run": rejected_import(db),
            "counselor1_leave": leave.id,
            "counselor1_conflict": conflict.id,
            "swap": swap.id,
            "monday": (today() - timedelta(days=today().weekday())).isoformat(),
            "device": str(new_entry_id()),
            **evaluation_places(db, counselor1.department_id, user_named(db, "leader1")),
            "activity": activity.id,
            "no_task_part": 0,
            "assessed": counselor1.id,
            "other_rules": filed_rules(db, elsewhere.id, user_named(db, "admin")),
            "counselor1_escalation": closed_escalation(db),
            "no_escalation": 0,
        }
    yield made
    with sessionmaker() as db:
        db.execute(delete(SwapRequest).where(SwapRequest.id == made["swap"]))
        db.execute(delete(StaffLeave).where(StaffLeave.id == made["counselor1_leave"]))
        db.execute(
            delete(Conflict).where(
                Conflict.id.in_([made["counselor1_conflict"], made["counselor1_spare_conflict"]])
            )
        )
        db.execute(delete(Photo).where(Photo.id == made["counselor1_photo"]))
        db.execute(delete(Guardian).where(Guardian.name == SPARE_GUARDIAN))
        case = made["counselor1_case"]
        db.execute(delete(DisciplineStep).where(DisciplineStep.entry_id == case))
        db.execute(delete(EntryRevision).where(EntryRevision.entry_id == case))
        db.execute(delete(Entry).where(Entry.id == case))
        db.execute(
            delete(EvaluationPublication).where(
                EvaluationPublication.round_id.in_(made["evaluation_rounds"])
            )
        )
        db.execute(delete(EvaluationRound).where(EvaluationRound.id.in_(made["evaluation_rounds"])))
        db.execute(delete(Activity).where(Activity.id == made["activity"]))
        db.execute(delete(RetakeReport))
        db.execute(delete(AssessmentRules).where(AssessmentRules.id == made["other_rules"]))
        escalation = db.get(Escalation, made["counselor1_escalation"])
        referral = escalation.entry_id
        db.execute(delete(Escalation).where(Escalation.id == escalation.id))
        db.execute(delete(SensitiveRead).where(SensitiveRead.entry_id == referral))
        db.execute(delete(EntryRevision).where(EntryRevision.entry_id == referral))
        db.execute(delete(Entry).where(Entry.id == referral))
        db.commit()


def filed_rules(db, department_id: int, author: User) -> int:
    """A version of 外系's assessment rules waiting for the office (deciding it needs a choice)."""
    from server.assessment import COLLEGE_DEFAULT

    row = AssessmentRules(
        department_id=department_id, version=1, period="semester", created_by_id=author.id,
        measures=COLLEGE_DEFAULT["measures"], status="filed", comment="",
    )  # fmt: skip
    db.add(row)
    db.commit()
    return row.id


SPARE_GUARDIAN = "测试用家长"


def evaluation_places(db, department_id: int, leader: User) -> dict:
    """A round of 信息工程系, and two published rounds: one still public, one revoked."""
    opened = {"department_id": department_id, "period": "week", "first_day": today(),
              "last_day": today(), "rule": "mean", "inspection_days": [], "deductions": {},
              "opened_by_id": leader.id, "opened_at": datetime.now(UTC)}  # fmt: skip
    rounds = [EvaluationRound(name=f"权限测试评比{i}", **opened) for i in range(3)]
    db.add_all(rounds)
    db.flush()
    now = datetime.now(UTC)
    public, revoked = (
        EvaluationPublication(
            round_id=r.id,
            token=secrets.token_urlsafe(32),
            rows=[],
            published_by_id=leader.id,
            published_at=now,
            revoked_at=now if gone else None,
            revoked_by_id=leader.id if gone else None,
        )  # fmt: skip
        for r, gone in ((rounds[1], False), (rounds[2], True))
    )
    db.add_all([public, revoked])
    db.commit()
    return {
        "dept1_round": rounds[0].id,
        "public_token": public.token,
        "revoked_token": revoked.token,
        "evaluation_rounds": [r.id for r in rounds],
    }


def rejected_import(db) -> str:
    """An import that was checked and refused: its page lists the errors; it cannot apply."""
    run = ImportRun(
        id="authorization-table-run", filename="x.xlsx", size=1, status=ImportStatus.rejected,
        preview={"sheets": [], "errors": [], "ignored": []}, progress=100, stage="", message="",
    )  # fmt: skip
    db.merge(run)
    db.commit()
    return run.id


def decided_case(db):
    """A discipline case of counselor1's, through every step to 已处理."""
    counselor, leader, office = (user_named(db, n) for n in ("counselor1", "leader1", "office1"))
    student = db.scalar(
        select(Student.id)
        .join(SchoolClass)
        .where(SchoolClass.counselor_id == counselor.id)
        .order_by(Student.id)
        .limit(1)
    )
    entry_id = new_entry_id()
    payload = {"student_ids": [student], "date": today().isoformat(), "facts": "晚归",
               "rule": "宿舍管理规定", "handling": "criticism"}  # fmt: skip
    mutation = merge.Mutation(id=entry_id, op="create", kind="discipline", payload=payload)
    assert merge.apply(db, counselor, mutation).status == "applied"
    entry = db.get(Entry, entry_id)
    discipline.submit(db, counselor, entry)
    discipline.review(db, leader, entry, "agree")
    discipline.approve(db, office, entry, "approve")
    db.commit()
    return entry_id


def closed_escalation(db) -> int:
    """A 心理 talk of counselor1's with 转介: its escalation acknowledged and closed."""
    talk = record_talk(db, "counselor1", category="mental", needs_referral=True)
    escalation = db.scalar(select(Escalation).where(Escalation.entry_id == talk))
    office = user_named(db, "office1")
    escalations.acknowledge(db, office, escalation)
    escalations.close(db, office, escalation, "已转介心理咨询中心")
    db.commit()
    return escalation.id


def record_talk(db, username: str, **payload):
    """A talk by this person with the first student of their classes."""
    user = user_named(db, username)
    student = db.scalar(
        select(Student.id)
        .join(SchoolClass)
        .where(SchoolClass.counselor_id == user.id)
        .order_by(Student.id)
        .limit(1)
    )
    entry_id = new_entry_id()
    payload = {"student_ids": [student], "category": "study", "summary": "学习计划", **payload}
    mutation = merge.Mutation(id=entry_id, op="create", kind="talk", payload=payload)
    assert merge.apply(db, user, mutation).status == "applied"
    db.commit()
    return entry_id


@pytest.fixture(scope="module")
def as_person(app, elsewhere):
    """as_person("leader1") → the one test client, carrying that person's session cookies."""
    with signed_in(app, PEOPLE) as switch:
        yield switch


def _fill(value, places):
    if isinstance(value, str):
        return value.format(**places)
    if isinstance(value, dict):
        return {k: _fill(v, places) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, places) for v in value]
    return value


@pytest.mark.parametrize(
    "method, path, person", CASES, ids=[f"{m} {p} as {w}" for m, p, w in CASES]
)
def test_who_may_open_what(app, sessionmaker, as_person, places, method, path, person):
    if method == "GET":
        expected = GETS[path][person]
        response = as_person(person).get(path.format(**places), follow_redirects=False)
    else:
        body, table = POSTS[path]
        expected = table[person]
        if "{fresh_guardian}" in path:
            places = {**places, "fresh_guardian": _spare_guardian(sessionmaker, places)}
        # a device id belongs to the first person who pushes with it (sync/devices.py)
        places = {**places, "device": f"{places['device']}-{person}"}
        response = _post(app, as_person, person, path.format(**places), _fill(body, places))
    if expected == LOGIN:
        assert response.status_code in (302, 303, 307), response.text[:300]
        assert response.headers["location"].startswith("/login?next=")
    elif expected == PASSES:
        assert response.status_code not in (401, 403), response.text[:300]
        assert response.status_code < 500, response.text[:300]
        assert "/login?next=" not in response.headers.get("location", "")
    else:
        assert response.status_code == expected, response.text[:300]
    if expected == FORBIDDEN:
        assert "没有权限" in response.text
        assert "表单已过期" not in response.text  # refused for who they are, not a bad token


def _spare_guardian(sessionmaker, places) -> int:
    with sessionmaker() as db:
        guardian = Guardian(student_id=places["own_student"], name=SPARE_GUARDIAN, relation="父亲")
        db.add(guardian)
        db.commit()
        return guardian.id


def _post(app, as_person, person, path, body):
    if path == "/logout":
        # logging out ends every session of that person (server/accounts.py): log out a
        # session of its own, then give the epoch back so the table's session stays valid
        with TestClient(app) as client:
            if person != "anonymous":
                assert log_in(client, person).status_code == 303
            client.get("/login")
            response = client.post(
                path,
                data={"_csrf_token": client.cookies.get("csrftoken", "")},
                headers={"x-csrftoken": client.cookies.get("csrftoken", "")},
                follow_redirects=False,
            )
        if person != "anonymous":
            with app.state.sessionmaker() as db:
                db.execute(
                    update(User)
                    .where(User.username == person)
                    .values(session_epoch=User.session_epoch - 1)
                )
                db.commit()
        return response
    client = as_person(person)
    token = client.cookies.get("csrftoken", "")
    if "json" in body:
        return client.post(path, json=body["json"], follow_redirects=False)
    if "raw" in body:
        return client.post(
            path, content=body["raw"], headers={"content-type": "image/png"},
            follow_redirects=False,
        )  # fmt: skip
    return client.post(
        path,
        data={**body, "_csrf_token": token},
        headers={"x-csrftoken": token},
        follow_redirects=False,
    )


def _route_key(template: str) -> str:
    """The route path a table row's template stands for."""
    path = template.split("?")[0]
    for name, param in {
        "own_room": "room_id:int", "foreign_room": "room_id:int", "other_room": "room_id:int",
        "own_door": "token:str", "building": "building_id:int", "icon": "file:str",
        "record_kind": "kind_name:str", "no_kind": "kind_name:str", "own_class": "class_id:int",
        "foreign_class": "class_id:int", "other_class": "class_id:int",
        "foreign_course": "course_id:int", "other_course": "course_id:int",
        "no_course": "course_id:int", "counselor1_shift": "shift_id:int",
        "counselor_x_shift": "shift_id:int", "counselor1_entry": "entry_id:uuid",
        "counselor1_talk": "entry_id:uuid", "counselor1_leave": "leave_id:int",
        "counselor1_case": "entry_id:uuid", "no_case": "entry_id:uuid",
        "swap": "swap_id:int", "counselor1_conflict": "conflict_id:int",
        "counselor1_spare_conflict": "conflict_id:int", "counselor1_photo": "photo_id:int",
        "own_student": "student_id:int", "foreign_student": "student_id:int",
        "other_student": "student_id:int", "own_guardian": "guardian_id:int",
        "fresh_guardian": "guardian_id:int", "no_room": "room_id:int",
        "import_run": "run_id:str", "dept1_round": "round_id:int",
        "public_token": "token:str", "revoked_token": "token:str",
        "no_task_part": "part_id:int",
        "activity": "activity_id:int",
        "assessed": "staff_id:int", "other_rules": "rules_id:int",
        "counselor1_escalation": "escalation_id:int", "no_escalation": "escalation_id:int",
        "no_account": "user_id:int", "an_account": "user_id:int",
    }.items():  # fmt: skip
        path = path.replace(f"{{{name}}}", f"{{{param}}}")
    return path


def test_the_table_covers_every_route(app):
    """Every GET and POST the app serves has a row (Litestar's own static files and API
    documentation excepted: they are not the college's pages)."""
    routes = {
        (method, route.path)
        for route in app.routes
        if not route.path.startswith(("/static", "/schema"))
        for method in route.methods
        if method in ("GET", "POST")
    }
    covered = {("GET", _route_key(p)) for p in GETS} | {("POST", _route_key(p)) for p in POSTS}
    assert routes <= covered, sorted(routes - covered)
    assert not covered - routes, sorted(covered - routes)  # a row for a route that is gone


# --- refused forms draw only what the user may see ---------------------------------------------


def _students_of_room(db, room_id: int) -> list[str]:
    from server.models import Bed

    return list(
        db.scalars(
            select(Student.name)
            .join(Bed, Bed.student_id == Student.id)
            .where(Bed.room_id == room_id)
        )
    )


def _students_of_class(db, class_id: int) -> list[str]:
    return list(db.scalars(select(Student.name).where(Student.class_id == class_id)))


def _shown(names: list[str], html: str) -> list[str]:
    assert names, "the room or class has students to leak"
    return [name for name in names if name in html]


@pytest.mark.parametrize("htmx", [False, True], ids=["plain post", "htmx post"])
@pytest.mark.parametrize("person", ["teacher1", "counselor_x", "leader_x", "teacher_x"])
def test_a_refused_visit_for_a_room_out_of_scope_is_403_and_names_no_resident(
    as_person, places, db, person, htmx
):
    room = places["foreign_room"] if person == "teacher1" else places["own_room"]
    client = as_person(person)
    token = client.cookies["csrftoken"]
    headers = {"x-csrftoken": token, **({"HX-Request": "true"} if htmx else {})}
    form = {"room_id": str(room), "stars": "3", "talk_notes": "想看看", "_csrf_token": token}
    response = client.post("/visits", data=form, headers=headers)
    assert response.status_code == 403
    assert response.text == client.get(f"/rooms/{room}/visit").text  # the same page as the GET
    assert not _shown(_students_of_room(db, room), response.text)


@pytest.mark.parametrize("htmx", [False, True], ids=["plain post", "htmx post"])
@pytest.mark.parametrize(
    "person, class_key",
    [
        ("teacher1", "foreign_class"),
        ("leader1", "own_class"),
        ("office1", "own_class"),
        ("counselor_x", "own_class"),
        ("teacher_x", "own_class"),
        ("counselor1", "other_class"),
    ],
)
def test_a_refused_check_for_a_class_out_of_scope_is_403_and_names_no_student(
    as_person, places, db, person, class_key, htmx
):
    class_id = places[class_key]
    client = as_person(person)
    token = client.cookies["csrftoken"]
    headers = {"x-csrftoken": token, **({"HX-Request": "true"} if htmx else {})}
    form = {"class_id": str(class_id), "period": "1-2", "_csrf_token": token}
    response = client.post("/attendance/checks", data=form, headers=headers)
    assert response.status_code == 403
    assert response.text == client.get(f"/classes/{class_id}/attendance/new").text
    assert not _shown(_students_of_class(db, class_id), response.text)


def _stranger_form(db, elsewhere, token: str) -> dict:
    """Every id a record form posts, pointing into the other department."""
    stranger = db.scalar(select(Student.id).where(Student.class_id == elsewhere.class_id))
    taught = db.scalar(select(ClassCourse.id).where(ClassCourse.class_id == elsewhere.class_id))
    return {
        "student_ids": str(stranger), "student_id": str(stranger),
        "class_id": str(elsewhere.class_id), "class_course_id": str(taught),
        "category": "study", "summary": "外系学生", "theme": "外系", "_csrf_token": token,
    }  # fmt: skip


@pytest.mark.parametrize("kind", sorted(RECORD_KINDS))
def test_a_refused_record_about_another_departments_students_names_none_of_them(
    as_person, places, db, elsewhere, kind
):
    """A record form redrawn after a refusal offers the user's own students and classes,
    never the ones they posted from another department."""
    client = as_person("counselor1")
    token = client.cookies["csrftoken"]
    form = _stranger_form(db, elsewhere, token)
    response = client.post(f"/records/{kind}", data=form, headers={"x-csrftoken": token})
    assert response.status_code == 422
    assert not _shown(elsewhere.student_names, response.text)
    assert "外系测试1班" not in response.text


def test_a_refused_edit_about_another_departments_student_names_none_of_them(
    as_person, places, db, elsewhere
):
    client = as_person("counselor1")
    token = client.cookies["csrftoken"]
    form = _stranger_form(db, elsewhere, token)
    response = client.post(
        f"/entries/{places['counselor1_talk']}/revisions",
        data={**form, "base_revision": "1"},
        headers={"x-csrftoken": token},
    )
    assert response.status_code == 422
    assert not _shown(elsewhere.student_names, response.text)


def test_a_refused_visit_in_scope_draws_the_room_again_with_its_residents(as_person, places, db):
    """The other side: a room the user may open comes back with what was typed (422)."""
    client = as_person("teacher1")
    token = client.cookies["csrftoken"]
    room = places["own_room"]
    form = {"room_id": str(room), "stars": "9", "talk_notes": "别丢", "_csrf_token": token}
    response = client.post("/visits", data=form, headers={"x-csrftoken": token})
    assert response.status_code == 422
    assert "别丢" in response.text
    assert _shown(_students_of_room(db, room), response.text)


def test_the_menu_leads_to_my_week_and_to_leave(login):
    home = login("counselor1").get("/")
    assert 'href="/week"' in home.text and 'href="/leave"' in home.text
