"""The rules of each sheet, checked against the college as the sheets before it leave it.

A mixin of `checking._Checker`: each method takes a sheet's parsed rows and yields
(row number, key, values, current values or None) for the rows without an error; the state
it reads and updates (departments, staff, classes, students, rooms, beds …, in natural keys)
is loaded by `_Checker._load`.
"""

from __future__ import annotations

DEPARTMENT_ROLES = {"辅导员", "班主任", "系部学生工作负责人"}  # these need a 系部


class SheetRules:
    # --- the sheets, in the order of SHEETS ---------------------------------------------------

    def _departments(self, sheet, rows):
        for row_no, key, _values in self._unique(
            sheet, rows, lambda v: (v["系部名称"],), "系部名称"
        ):
            old = {"id": self.departments[key[0]]} if key[0] in self.departments else None
            self.departments.setdefault(key[0], None)
            yield row_no, key, {}, old

    def _staff(self, sheet, rows):
        for row_no, key, values in self._unique(sheet, rows, lambda v: (v["工号"],), "工号"):
            ok = True
            dept = values.get("系部")
            if dept and dept not in self.departments:
                ok = self._refuse(
                    sheet, row_no, "系部", f"没有名为“{dept}”的系部（系部表和系统中都没有）。"
                )
            if "系部" in values and not dept and values["角色"] & DEPARTMENT_ROLES:
                ok = self._refuse(
                    sheet, row_no, "系部", "辅导员、班主任和系部学生工作负责人必须填写系部。"
                )
            if not values["角色"]:
                ok = self._refuse(sheet, row_no, "角色", "“角色”不能为空。")
            elif key[0] == self.importer and "管理员" not in values["角色"]:
                ok = self._refuse(sheet, row_no, "角色", "不能通过导入去掉自己的管理员角色。")
            if "系部" in values:
                values["系部"] = dept or None
            old = self.staff.get(key[0])
            if not ok:
                self.staff.setdefault(key[0], {"角色": values["角色"]})
                continue
            self.staff[key[0]] = {**(old or {}), **values}
            yield row_no, key, values, old

    def _classes(self, sheet, rows):
        for row_no, key, values in self._unique(
            sheet, rows, lambda v: (v["班级名称"],), "班级名称"
        ):
            ok = True
            if values["系部"] not in self.departments:
                ok = self._refuse(sheet, row_no, "系部", f"没有名为“{values['系部']}”的系部。")
            for header, role in (("辅导员工号", "辅导员"), ("班主任工号", "班主任")):
                username = values.get(header)
                if not username:
                    continue
                person = self.staff.get(username)
                if person is None:
                    ok = self._refuse(
                        sheet, row_no, header, f"找不到工号“{username}”（教职工表和系统中都没有）。"
                    )
                elif role not in person.get("角色", ()):
                    ok = self._refuse(
                        sheet,
                        row_no,
                        header,
                        f"工号“{username}”（{person.get('姓名', '')}）的角色中没有{role}。",
                    )
            old = self.classes.get(key[0])
            if not ok:
                self.classes.setdefault(key[0], {"系部": values["系部"]})
                continue
            self.classes[key[0]] = {**(old or {}), **values}
            yield row_no, key, values, old

    def _students(self, sheet, rows):
        for row_no, key, values in self._unique(sheet, rows, lambda v: (v["学号"],), "学号"):
            old = self.students.get(key[0])
            if values["班级名称"] not in self.classes:
                self._refuse(
                    sheet,
                    row_no,
                    "班级名称",
                    f"没有名为“{values['班级名称']}”的班级（班级表和系统中都没有）。",
                )
                self.students.setdefault(key[0], {"性别": values["性别"]})
                continue
            self.students[key[0]] = {**(old or {}), **values}
            if old is not None:  # a changed contact grade is kept with its history (applying)
                values = {**values, "__grade_before": old["联系等级"]}
            yield row_no, key, values, old

    def _guardians(self, sheet, rows):
        for row_no, key, values in self._unique(
            sheet, rows, lambda v: (v["学号"], v["姓名"]), "学号 + 家长姓名"
        ):
            if key[0] not in self.students:
                self._refuse(sheet, row_no, "学号", self._unknown_student(key[0]))
                continue
            yield (
                row_no,
                key,
                {h: values.get(h) for h in ("关系", "电话") if h in values},
                self.guardians.get(key),
            )

    def _rooms(self, sheet, rows):
        for row_no, key, values in self._unique(
            sheet, rows, lambda v: (v["楼栋"], v["房间号"]), "楼栋 + 房间号"
        ):
            old = self.rooms.get(key)
            self.rooms[key] = {**(old or {}), **values}
            if "床位数" in values:
                self.bed_count_rows[key] = row_no
            yield row_no, key, {h: values.get(h) for h in ("床位数", "性别") if h in values}, old

    def _beds(self, sheet, rows):
        claims: dict[tuple, tuple[int, str]] = {}
        moving = {}
        for row_no, key, values in self._unique(sheet, rows, lambda v: (v["学号"],), "学号"):
            number = key[0]
            place = (values["楼栋"], values["房间号"], values["床号"])
            room = self.rooms.get(place[:2])
            if number not in self.students:
                self._refuse(sheet, row_no, "学号", self._unknown_student(number))
            elif room is None:
                self._refuse(
                    sheet,
                    row_no,
                    "房间号",
                    f"没有宿舍“{place[0]} {place[1]}”（宿舍表和系统中都没有）。",
                )
            elif place[2] > room["床位数"]:
                self._refuse(
                    sheet,
                    row_no,
                    "床号",
                    f"床号 {place[2]} 超出该宿舍的床位数（{room['床位数']}）。",
                )
            elif place in claims:
                row, other = claims[place]
                self._refuse(
                    sheet,
                    row_no,
                    "床号",
                    f"两名学生在同一床位：{place[0]} {place[1]} {place[2]} 号床已在第 {row} 行安排给学号 {other}。",
                )
            elif room.get("性别") and self.students[number].get("性别") not in (None, room["性别"]):
                self._refuse(
                    sheet,
                    row_no,
                    "房间号",
                    f"{place[0]} {place[1]} 是{room['性别']}生宿舍，学号 {number} 的性别是{self.students[number]['性别']}。",
                )
            else:
                claims[place] = (row_no, number)
                moving[number] = (row_no, place, values)
        # a bed still held by a student this sheet does not move elsewhere cannot be given away
        for place, (row_no, number) in claims.items():
            holder = self.sleeper.get(place)
            if holder and holder != number and holder not in moving:
                self._refuse(
                    sheet,
                    row_no,
                    "床号",
                    f"{place[0]} {place[1]} {place[2]} 号床住着学号 {holder}：请在本表中同时为其安排新床位。",
                )
                moving.pop(number)
        for number, (row_no, place, _values) in moving.items():
            old_place = self.bed_of.get(number)
            old = (
                None
                if old_place is None
                else {"id": self.students[number]["id"],  # the student: their bed moves
                      "楼栋": old_place[0], "房间号": old_place[1], "床号": old_place[2]}
            )  # fmt: skip
            yield row_no, (number,), {"楼栋": place[0], "房间号": place[1], "床号": place[2]}, old
        self.moving = moving

    def finish(self) -> None:
        """A room whose 床位数 goes down must not leave anyone in a bed beyond it (a student the
        床位 sheet moves elsewhere has left it)."""
        for place, number in self.sleeper.items():
            row_no = self.bed_count_rows.get(place[:2])
            if row_no is None or number in self.moving:
                continue
            beds = self.rooms[place[:2]]["床位数"]
            if place[2] > beds:
                self._error("宿舍", row_no, "床位数",
                            f"{place[0]} {place[1]} 的 {place[2]} 号床住着学号 {number}，床位数不能少于 {place[2]}。")  # fmt: skip

    def _courses(self, sheet, rows):
        seen_course: dict[tuple, tuple[int, str]] = {}
        seen_teacher: dict[tuple, tuple[int, str | None]] = {}
        for row_no, key, values in self._unique(
            sheet, rows, lambda v: (v["班级名称"], v["课程名称"]), "班级 + 课程名称"
        ):
            school_class = self.classes.get(key[0])
            if school_class is None:
                self._refuse(sheet, row_no, "班级名称", f"没有名为“{key[0]}”的班级。")
                continue
            dept = school_class.get("系部")
            ok = True
            if "专业基础课" in values:
                course = (dept, key[1])
                if course in seen_course and seen_course[course][1] != values["专业基础课"]:
                    ok = self._refuse(
                        sheet,
                        row_no,
                        "专业基础课",
                        f"课程“{key[1]}”在第 {seen_course[course][0]} 行标为“{seen_course[course][1]}”，两行应一致。",
                    )
                seen_course.setdefault(course, (row_no, values["专业基础课"]))
            if "教师电话" in values:
                teacher = (dept, values["任课教师"])
                if teacher in seen_teacher and seen_teacher[teacher][1] != values["教师电话"]:
                    ok = self._refuse(
                        sheet,
                        row_no,
                        "教师电话",
                        f"任课教师“{values['任课教师']}”在第 {seen_teacher[teacher][0]} 行的电话不同。",
                    )
                seen_teacher.setdefault(teacher, (row_no, values["教师电话"]))
            if not ok:
                continue
            old = self.class_courses.get(key)
            if old is not None:
                old = {**old, "专业基础课": self.courses.get((dept, key[1]), {}).get("专业基础课")}
            values["__department"] = dept
            yield row_no, key, values, old

    # --- helpers ---------------------------------------------------------------------------------

    def _refuse(self, sheet, row, column, message) -> bool:
        self._error(sheet, row, column, message)
        return False

    def _unknown_student(self, number: str) -> str:
        padded = next(
            (("0" * k) + number for k in range(1, 4) if ("0" * k) + number in self.students), None
        )
        if padded:
            return f"找不到学号“{number}”，但有学号“{padded}”：Excel 可能去掉了开头的 0，请把该列设为文本格式。"
        return f"找不到学号“{number}”（学生表和系统中都没有）。"
