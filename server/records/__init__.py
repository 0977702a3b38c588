"""The guideline's work records (§2.1–§2.8, §1.3, §3), one module per kind of entry.

谈心谈话 talk (§2.8), 联系家长 parent contact (§2.5), 听课 lecture observation (§2.6),
联系任课教师 course-teacher contact (§2.6.2), 会议 meeting (§2.1–§2.3), 计划与总结 plans and
summaries (§1.3, §3) and 重修分析 retake analysis (§1.7). Like dorm visits they go through server.sync.merge (online or from the
outbox), are edited by their author only, and keep every revision. They are registered in
`server/kinds.py` and share one form template and route pair (`record_form=True`).
"""

from server.attendance import PERIODS  # the same lesson periods as attendance checks
from server.records.common import CONTACT_METHODS, DATE_WINDOW_DAYS, LONG_TEXT
from server.records.lecture_observation import LECTURE_OBSERVATION
from server.records.meeting import CLASS_MEETINGS, MEETING, MEETING_TYPES, department_staff
from server.records.parent_contact import CONTACT_REASONS, PARENT_CONTACT
from server.records.plan import PLAN, PLAN_TYPES
from server.records.retake_analysis import RETAKE_ANALYSIS
from server.records.talk import MAX_STUDENTS_PER_TALK, TALK, TALK_CATEGORIES
from server.records.teacher_contact import TEACHER_CONTACT

LECTURE = LECTURE_OBSERVATION  # the name routes and due lists used before the split

__all__ = [
    "CLASS_MEETINGS",
    "CONTACT_METHODS",
    "CONTACT_REASONS",
    "DATE_WINDOW_DAYS",
    "LECTURE",
    "LECTURE_OBSERVATION",
    "LONG_TEXT",
    "MAX_STUDENTS_PER_TALK",
    "MEETING",
    "MEETING_TYPES",
    "PARENT_CONTACT",
    "PERIODS",
    "PLAN",
    "PLAN_TYPES",
    "RETAKE_ANALYSIS",
    "TALK",
    "TALK_CATEGORIES",
    "TEACHER_CONTACT",
    "department_staff",
]
