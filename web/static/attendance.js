// 检查上课 (the attendance check form): one tap on a student cycles their mark, the counts
// follow, the roles of the chosen course show beside names, and the date is the phone's today.
// Each mark lives in a hidden input (mark_<student id>), so a save caught offline by the
// service worker posts exactly the fields an online save does.

const CYCLE = ["present", "absent", "late", "leave", "early_leave"];
const LABELS = { present: "出勤", absent: "缺勤", late: "迟到", leave: "请假", early_leave: "早退" };
const EVENING = "evening";
const DAYS_BACK = 30; // server/attendance.py MAX_DAYS_BACK
const DAYS_AHEAD = 1; // server/attendance.py MAX_DAYS_AHEAD

function isoDay(date) {
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return local.toISOString().slice(0, 10);
}

function daysFromToday(days) {
  const date = new Date();
  date.setDate(date.getDate() + days);
  return isoDay(date);
}

function recount(form) {
  const marks = Array.from(form.querySelectorAll("[data-mark]"), (input) => input.value);
  const count = (mark) => marks.filter((value) => value === mark).length;
  const values = {
    expected: marks.length,
    // 实到: everyone who came, late and leaving early included (server/attendance.py counts)
    attended: marks.length - count("absent") - count("leave"),
    absent: count("absent"),
    late: count("late"),
    leave: count("leave"),
    early_leave: count("early_leave"),
  };
  for (const [name, value] of Object.entries(values)) {
    const cell = form.querySelector(`[data-count="${name}"]`);
    if (cell) cell.textContent = value;
  }
}

function showRoles(form) {
  const course = form.querySelector("[data-course]").value;
  for (const tag of form.querySelectorAll("[data-role-course]")) {
    tag.hidden = tag.dataset.roleCourse !== course;
  }
}

function setUp(form) {
  const date = form.querySelector('input[name="date"]');
  // the page may be a copy cached on another day: today is the phone's today
  date.min = daysFromToday(-DAYS_BACK);
  date.max = daysFromToday(DAYS_AHEAD);
  if ("today" in date.dataset) date.value = daysFromToday(0);
  recount(form);
  showRoles(form);
}

function setUpWithin(root) {
  const forms = root.matches?.("[data-attendance]") ? [root] : root.querySelectorAll("[data-attendance]");
  for (const form of forms) setUp(form);
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-mark-button]");
  if (!button) return;
  const input = button.parentElement.querySelector("[data-mark]");
  const next = CYCLE[(CYCLE.indexOf(input.value) + 1) % CYCLE.length];
  input.value = next;
  button.dataset.state = next;
  button.querySelector("[data-mark-label]").textContent = LABELS[next];
  recount(button.closest("form"));
});

// 晚自习 has no course: choosing one side sets the other
document.addEventListener("change", (event) => {
  const form = event.target.closest("[data-attendance]");
  if (!form) return;
  const course = form.querySelector("[data-course]");
  const period = form.querySelector("[data-period]");
  if (event.target === period && period.value === EVENING) course.value = "";
  if (event.target === course) {
    if (course.value === "") period.value = EVENING;
    else if (period.value === EVENING) period.value = period.options[0].value;
  }
  showRoles(form);
});

document.addEventListener("htmx:load", (event) => setUpWithin(event.detail.elt));
window.addEventListener("pageshow", () => setUpWithin(document));
setUpWithin(document);
