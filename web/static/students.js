// 离线查找学生 (/students/offline): the list 准备巡查 cached, filtered on the phone by name,
// 学号, pinyin initials and full pinyin (the keys server/pinyin.py stored with each student).
const MAX_QUERY = 30; // as server/students.py

function matches(item, query) {
  const d = item.dataset;
  const letters = query.toLowerCase();
  return (
    d.name.includes(query) ||
    d.number.startsWith(query) ||
    (/^[a-z]+$/.test(letters) && (d.initials.startsWith(letters) || d.full.startsWith(letters)))
  );
}

function filter(list, input) {
  const query = input.value.replace(/\s+/g, "").slice(0, MAX_QUERY);
  let shown = 0;
  for (const item of list.children) {
    item.hidden = Boolean(query) && !matches(item, query);
    if (!item.hidden) shown += 1;
  }
  list.dataset.shown = shown;
  document.querySelector("[data-offline-none]").hidden = shown > 0;
  document.querySelector("[data-offline-status]").textContent = query
    ? `找到 ${shown} 名学生。`
    : `共 ${list.children.length} 名学生。`;
}

const list = document.querySelector("[data-offline-students]");
const input = document.querySelector("[data-offline-query]");
if (list && input) {
  input.addEventListener("input", () => filter(list, input));
  document.querySelector("[data-offline-search]").addEventListener("submit", (event) => {
    event.preventDefault();
    filter(list, input);
  });
  filter(list, input);
}
