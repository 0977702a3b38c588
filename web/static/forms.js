// Form helpers on every page (issue 15), all working on the page alone, so a form cached by
// 准备巡查 behaves the same offline: the student picker (name, 学号 or pinyin initials; chips),
// guardians re-rendered for the chosen student, live character counters on long texts, the
// 时间 field of talks and parent contacts, and the door form's summary bar.

const MAX_RESULTS = 30; // matches listed at once; typing narrows them
const NEAR_LIMIT = 0.9; // the counter turns to a warning from 90 % of the limit
const COLLEGE_HOURS = 8; // Asia/Shanghai, UTC+8 all year (server/settings.py TIMEZONE)
const DAYS_BACK = 30; // server/sync/merge.py MAX_BEHIND

// --- the student picker -----------------------------------------------------------------------
// The native <select> stays in the form (it is what is posted and what the outbox stores) and
// is hidden; the search box, the chips and the matches drive it.

function setUpPicker(picker) {
  if (picker.dataset.ready) return;
  picker.dataset.ready = "1";
  const select = picker.querySelector("[data-picker-select]");
  const search = picker.querySelector("[data-picker-search]");
  const chips = picker.querySelector("[data-picker-chips]");
  const results = picker.querySelector("[data-picker-results]");
  const students = [...select.options]
    .filter((o) => o.value)
    .map((option, order) => ({
      option,
      order,
      name: option.dataset.name || option.textContent.trim(),
      number: option.dataset.number || "",
      pinyin: option.dataset.pinyin || "",
      initials: option.dataset.initials || "",
      classId: option.dataset.class || "",
      className: option.closest("optgroup")?.label || "",
    }));
  const required = select.required;
  select.required = false; // a hidden required select cannot be focused: the search box says it
  select.classList.add("enhanced");
  select.tabIndex = -1;
  select.setAttribute("aria-hidden", "true");
  search.hidden = false;
  select.addEventListener("change", drawChips); // also when a script or a test sets it

  const chosen = () => students.filter((s) => s.option.selected);

  function matches(query) {
    const q = query.trim().toLowerCase().replace(/\s+/g, "");
    const list = students.filter(
      (s) =>
        !q ||
        s.name.toLowerCase().includes(q) ||
        s.number.includes(q) ||
        s.initials.startsWith(q) ||
        s.pinyin.startsWith(q),
    );
    // the class's students first: the classes of those already chosen, then the page's order
    const classes = new Set(chosen().map((s) => s.classId));
    return list.sort((a, b) => classes.has(b.classId) - classes.has(a.classId) || a.order - b.order);
  }

  function drawResults() {
    const found = matches(search.value).slice(0, MAX_RESULTS);
    results.replaceChildren(
      ...found.map((s) => {
        const li = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        button.dataset.pick = s.option.value;
        button.setAttribute("aria-pressed", String(s.option.selected));
        button.textContent = `${s.option.selected ? "✓ " : ""}${s.name}`;
        const detail = document.createElement("span");
        detail.className = "muted";
        detail.textContent = `${s.number} ${s.className}`;
        button.append(detail);
        button.addEventListener("click", () => pick(s));
        li.append(button);
        return li;
      }),
    );
  }

  function drawChips() {
    chips.replaceChildren(
      ...chosen().map((s) => {
        const chip = document.createElement("button");
        chip.type = "button";
        chip.dataset.chip = s.option.value;
        chip.textContent = `${s.name} ✕`;
        chip.setAttribute("aria-label", `移除 ${s.name}`);
        chip.addEventListener("click", () => {
          s.option.selected = false;
          changed();
        });
        return chip;
      }),
    );
    search.setCustomValidity(required && !chosen().length ? "请选择学生" : "");
  }

  function pick(student) {
    if (select.multiple) {
      student.option.selected = !student.option.selected;
    } else {
      select.value = student.option.value;
      results.replaceChildren();
    }
    search.value = "";
    changed();
    if (select.multiple) search.focus();
  }

  function changed() {
    drawChips();
    if (select.multiple && document.activeElement === search) drawResults();
    select.dispatchEvent(new Event("change", { bubbles: true }));
  }

  search.addEventListener("input", drawResults);
  search.addEventListener("focus", drawResults);
  search.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault(); // Enter picks the first match instead of sending the form
    const first = matches(search.value)[0];
    if (first && search.value.trim()) pick(first);
  });
  drawChips();
}

// --- 联系家长: only the chosen student's guardians, as options re-rendered (iOS Safari ignores
// `hidden` on an <option>) ----------------------------------------------------------------------

function setUpGuardians(form) {
  const student = form.querySelector("[data-guardian-student]");
  const guardians = form.querySelector("[data-guardians]");
  if (!student || !guardians || guardians.dataset.ready) return;
  guardians.dataset.ready = "1";
  const all = [...guardians.options].filter((o) => o.dataset.student).map((o) => o.cloneNode(true));
  const chosenAtFirst = guardians.value;
  const draw = () => {
    const kept = guardians.value || chosenAtFirst;
    const theirs = all.filter((o) => o.dataset.student === student.value).map((o) => o.cloneNode(true));
    const placeholder = new Option(student.value ? "请选择家长" : "请先选择学生", "");
    if (student.value && !theirs.length) placeholder.textContent = "这名学生没有登记家长";
    guardians.replaceChildren(placeholder, ...theirs);
    guardians.value = theirs.some((o) => o.value === kept) ? kept : "";
  };
  student.addEventListener("change", draw);
  draw();
}

// --- live character counters on long texts -----------------------------------------------------

function setUpCounter(field) {
  if (field.dataset.counted) return;
  field.dataset.counted = "1";
  const max = Number(field.getAttribute("maxlength"));
  const counter = document.createElement("small");
  counter.className = "char-count";
  counter.dataset.charCount = "";
  field.after(counter);
  let cut = false;
  const draw = () => {
    const length = field.value.length;
    counter.textContent = `${length} / ${max}` + (cut ? `（粘贴的内容超过 ${max} 字，多出的部分没有粘贴进来）` : "");
    counter.classList.toggle("near", length >= max * NEAR_LIMIT);
    counter.classList.toggle("full", length >= max);
  };
  field.addEventListener("paste", (event) => {
    const pasted = event.clipboardData?.getData("text") || "";
    const selected = field.selectionEnd - field.selectionStart;
    cut = field.value.length - selected + pasted.length > max;
  });
  field.addEventListener("input", () => {
    if (field.value.length < max) cut = false;
    draw();
  });
  draw();
}

// --- 时间 of a talk or parent contact: now by default, 30 days back at most ----------------------

function collegeMinute(date) {
  // the wall clock in Asia/Shanghai as a datetime-local value (YYYY-MM-DDTHH:MM)
  const shifted = new Date(date.getTime() + COLLEGE_HOURS * 3600 * 1000);
  return shifted.toISOString().slice(0, 16);
}

function setUpOccurredAt(input) {
  const now = new Date();
  input.max = collegeMinute(now);
  input.min = collegeMinute(new Date(now.getTime() - DAYS_BACK * 24 * 3600 * 1000));
  if ("defaultNow" in input.dataset) input.value = input.max;
  input.addEventListener("input", () => delete input.dataset.defaultNow, { once: true });
  const form = input.form;
  if (!form || form.dataset.occurredReady) return;
  form.dataset.occurredReady = "1";
  // still "now": leave it out, so the record's time is the moment it is saved (to the second)
  form.addEventListener("formdata", (event) => {
    if ("defaultNow" in input.dataset) event.formData.delete(input.name);
  });
}

// --- the door form's summary bar: who is in, how many stars, what waits in the outbox --------------

function setUpVisitSummary(form) {
  const bar = form.querySelector("[data-visit-summary]");
  if (!bar || bar.dataset.ready) return;
  bar.dataset.ready = "1";
  const draw = () => {
    const values = [...form.querySelectorAll('input[type=radio][name^="presence_"]:checked')].map((i) => i.value);
    for (const cell of bar.querySelectorAll("[data-presence-count]")) {
      cell.textContent = values.filter((v) => v === cell.dataset.presenceCount).length;
    }
  };
  form.addEventListener("change", draw);
  draw();
}

// --- start: on the page, and on every form htmx swaps in (a refused save) -----------------------

function setUpWithin(root) {
  for (const picker of root.querySelectorAll("[data-picker]")) setUpPicker(picker);
  for (const form of root.querySelectorAll("form")) {
    setUpGuardians(form);
    setUpVisitSummary(form);
  }
  for (const field of root.querySelectorAll("textarea[maxlength]")) setUpCounter(field);
  for (const input of root.querySelectorAll("input[data-occurred-at]")) setUpOccurredAt(input);
}

document.addEventListener("htmx:load", (event) => setUpWithin(event.detail.elt.parentElement || event.detail.elt));
window.addEventListener("pageshow", () => {
  for (const input of document.querySelectorAll("input[data-occurred-at][data-default-now]")) {
    setUpOccurredAt(input); // a page shown again from the cache: now is later
  }
});
setUpWithin(document);
