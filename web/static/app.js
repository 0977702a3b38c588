// Page behaviour, on every page: the CSRF header for htmx, fresh entry ids, the outbox badge,
// list and replay, 准备巡查 (prepare for rounds), and a logout that empties a shared phone.
// The outbox itself is web/static/outbox.js (window.xgOutbox), shared with the worker.

const outbox = window.xgOutbox;
const RETRY_SECONDS = 15; // while entries wait and the page is in front, try this often

// --- htmx: CSRF token and saves ---------------------------------------------------------------

function cookie(name) {
  const row = document.cookie.split("; ").find((c) => c.startsWith(name + "="));
  return row ? decodeURIComponent(row.split("=")[1]) : "";
}

// a page cached for offline use may hold a stale token; the cookie never does
document.addEventListener("htmx:configRequest", (event) => {
  event.detail.headers["x-csrftoken"] = cookie("csrftoken");
});

// A UUIDv7 (RFC 9562), like the server's: 48 bits of Unix milliseconds, the version and
// variant bits, 74 random bits. Ten lines instead of the uuidv7 package's 18 KB module, which
// every first load downloaded twice (the page's import and the worker's shell).
function uuidv7() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  for (let i = 5, ms = Date.now(); i >= 0; i -= 1, ms = Math.floor(ms / 256)) bytes[i] = ms % 256;
  bytes[6] = 0x70 | (bytes[6] & 0x0f);
  bytes[8] = 0x80 | (bytes[8] & 0x3f);
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
}

// The server draws an entry id into each form, but a cached copy of the page would hand the
// same id to every save: draw a fresh UUIDv7 whenever a form is shown or swapped in.
function freshEntryIds(root) {
  for (const input of root.querySelectorAll("[data-entry-id]")) input.value = uuidv7();
}
// a form page cached days ago must not default to the day it was cached
function todayDefaults(root) {
  const now = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  const today = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
  for (const input of root.querySelectorAll("input[data-default-today]")) input.value = today;
}
window.addEventListener("pageshow", () => {
  freshEntryIds(document);
  todayDefaults(document);
});
document.addEventListener("htmx:load", (event) => freshEntryIds(event.detail.elt));

// the import's confirmation: the apply runs in one request; show that it is under way
document.addEventListener("htmx:beforeRequest", (event) => {
  if (!event.target.closest?.("[data-import-apply]")) return;
  document.querySelector("[data-apply-progress]")?.removeAttribute("hidden");
});

// No service worker took the save (first visit before it installed, or a forced reload):
// keep the entry in the outbox from here, so nothing written is lost.
document.addEventListener("htmx:sendError", async (event) => {
  const form = event.detail.elt;
  if (!(form instanceof HTMLFormElement) || !form.elements.namedItem("_kind")) return;
  await outbox.add(new FormData(form));
  const saved = document.createElement("p");
  saved.className = "ok";
  saved.setAttribute("role", "status");
  saved.textContent = "已离线保存，联网后自动同步";
  form.replaceWith(saved);
});

document.addEventListener("htmx:responseError", (event) => {
  const form = event.detail.elt;
  if (!(form instanceof HTMLFormElement)) return;
  const alert = form.querySelector("[data-save-error]") || document.createElement("p");
  alert.className = "alert";
  alert.dataset.saveError = "";
  alert.setAttribute("role", "alert");
  alert.textContent = `未保存：服务器返回错误（${event.detail.xhr.status}），请稍后重试。`;
  form.prepend(alert);
});

// --- the outbox: badge, list, replay ----------------------------------------------------------

async function showOutbox() {
  const state = await outbox.summary();
  const badge = document.querySelector("[data-outbox-badge]");
  badge.dataset.count = state.pending;
  badge.textContent =
    `${state.pending} 条待同步` + (state.problems ? ` · ${state.problems} 条需处理` : "");
  badge.hidden = state.pending + state.problems === 0;
  // the tab bar's and the long forms' summary bars carry the count too (base.html, the forms)
  for (const count of document.querySelectorAll("[data-outbox-count]")) {
    count.textContent = state.pending + state.problems;
    count.hidden = state.pending + state.problems === 0;
  }
  document.querySelector("[data-login-expired]").hidden = !(state.loginExpired && state.pending);
  if (document.querySelector("[data-outbox]")) await drawOutboxPage(state);
  const week = document.querySelector("[data-week]");
  if (week) await drawPendingQuotas(week);
}

// --- 本周: what waits in the outbox counts as pending, not done (server/week.py counts done) ---

/** Which weekly quotas an outbox item will count for; mirrors the kinds' counts_as. */
function facetsOf(item) {
  // a correction or a deletion waiting to be sent adds no record (the server counts the rest)
  if (item.op && item.op !== "create") return [];
  const form = item.form;
  if (item.kind !== "dorm_visit") return [item.kind];
  const facets = ["dorm_visit"];
  if (form.stars) facets.push("hygiene_check");
  if ((form.talk_notes || "").trim()) facets.push("dorm_talk");
  return facets;
}

async function drawPendingQuotas(week) {
  const start = new Date(`${week.dataset.weekStart}T00:00:00+08:00`);
  const end = new Date(start.getTime() + 7 * 24 * 3600 * 1000);
  const waiting = (await outbox.list()).filter((item) => {
    const recorded = new Date(item.recorded_at);
    return item.status === "pending" && recorded >= start && recorded < end;
  });
  for (const row of week.querySelectorAll("[data-quota]")) {
    const counted = waiting.filter((item) => facetsOf(item).includes(row.dataset.counts));
    let pending = counted.length;
    if (row.dataset.distinct === "students") {
      // each student once: those already counted on the server, and those in several items
      // a group talk (several students) counts once, as the server counts it (server/week.py)
      const done = new Set(row.dataset.students.split(",").filter(Boolean));
      const ids = (item) => [].concat(item.form.student_ids || []);
      const groups = counted.filter((item) => ids(item).length > 1).length;
      const more = new Set(counted.filter((item) => ids(item).length <= 1).flatMap(ids));
      pending = [...more].filter((id) => !done.has(id)).length + groups;
    }
    const label = row.querySelector("[data-pending]");
    label.textContent = `+${pending} 待同步`;
    label.hidden = pending === 0;
  }
}

async function drawOutboxPage(state) {
  const rows = (await outbox.list()).map(outboxRow);
  document.querySelector("[data-outbox-items]").replaceChildren(...rows);
  document.querySelector("[data-outbox-empty]").hidden = rows.length > 0;
  document.querySelector("[data-last-sync]").textContent = state.lastSyncAt
    ? `上次同步：${outbox.formatTime(state.lastSyncAt)}`
    : "尚未同步";
}

function outboxRow(item) {
  const row = document.querySelector("template[data-outbox-row]").content.firstElementChild;
  const li = row.cloneNode(true);
  li.dataset.id = item.id;
  li.dataset.status = item.status;
  const field = (name) => li.querySelector(`[data-field="${name}"]`);
  field("label").textContent = item.label;
  field("recorded").textContent = outbox.formatTime(item.recorded_at);
  field("status").textContent = outbox.LABELS[item.status] || item.status;
  field("reason").textContent = item.reason || "";
  if (item.status === "conflict") {
    // the server keeps the phone's version: both side by side, the person decides
    const template = document.querySelector("template[data-outbox-row]");
    const resolve = li.querySelector("[data-resolve]");
    resolve.href = template.dataset.conflictUrl.replace(/0{8}-0{4}-0{4}-0{4}-0{12}/, item.id);
    resolve.hidden = false;
  }
  const removeButton = li.querySelector("[data-remove]");
  // conflicts are kept on the server for the author; a rejected entry can only be retyped
  removeButton.hidden = item.status === "pending";
  removeButton.addEventListener("click", async () => {
    if (confirm(`从手机上移除「${item.label}」？`)) await outbox.remove(item.id);
  });
  return li;
}

const SYNC_STATES = {
  done: "已全部同步。",
  offline: "连不上服务器，联网后会自动重试。",
  login: "登录已过期，请重新登录。",
  refused: "服务器暂时不接收这些记录，请稍后再试或联系管理员。",
  busy: "正在同步…",
};

async function replay() {
  const result = await outbox.sync();
  await showOutbox();
  return result;
}

async function syncNow(button) {
  const state = document.querySelector("[data-sync-state]");
  button.disabled = true;
  state.textContent = "正在同步…";
  const result = await replay();
  state.textContent = SYNC_STATES[result.state] || "";
  button.disabled = false;
}

async function replayIfWaiting() {
  if (document.visibilityState === "visible" && (await outbox.summary()).pending) await replay();
}

// Background Sync exists only in Chromium: pages replay on load, when the connection comes
// back, when the page comes to the front, on a timer, and on the button.
function startReplay() {
  outbox.onChange(showOutbox);
  window.addEventListener("online", replay);
  document.addEventListener("visibilitychange", replayIfWaiting);
  setInterval(replayIfWaiting, RETRY_SECONDS * 1000);
  const button = document.querySelector("[data-sync-now]");
  button?.addEventListener("click", () => syncNow(button));
  const saved = document.querySelector("[data-saved-banner]");
  if (saved) saved.hidden = !new URLSearchParams(location.search).has("saved");
  showOutbox();
  replay();
}

// --- 准备巡查: cache tonight's and this week's pages --------------------------------------------

async function prepareForRounds(section) {
  const button = section.querySelector("[data-prepare-start]");
  const progress = section.querySelector("[data-prepare-progress]");
  const summary = section.querySelector("[data-prepare-summary]");
  button.disabled = true;
  summary.textContent = "正在获取要缓存的页面…";
  askToKeepStorage();
  try {
    const plan = await fetchPlan(section.dataset.planUrl);
    progress.max = plan.items.length;
    progress.value = 0;
    progress.hidden = false;
    const request = { type: "prepare", items: plan.items, roomsUrl: plan.rooms_url };
    const result = await askWorker(request, (message) => {
      progress.value = message.done;
      summary.textContent = `正在缓存 ${message.done} / ${message.total}`;
    });
    const failed = new Set(result.failed);
    const rooms = plan.items.filter((i) => i.kind === "room" && !failed.has(i.url)).length;
    await outbox.setMeta("last_prepared", { at: new Date().toISOString(), rooms });
    await outbox.setMeta("tonight", plan.tonight); // 下一间 after a visit saved offline
    const rosters = plan.items.filter((i) => i.kind === "roster" && !failed.has(i.url)).length;
    if (!(await readsQrNatively())) {
      // 扫码 offline needs the wasm decoder on this browser: kept now, not at install
      const decoder = await askWorker({ type: "decoder" }, () => {});
      for (const url of decoder.failed) failed.add(url);
    }
    summary.textContent = prepareSummary(plan, rooms, failed.size, rosters);
  } catch (error) {
    summary.textContent = error.message;
  } finally {
    progress.hidden = true;
    button.disabled = false;
    showLastPrepared(section);
  }
}

async function readsQrNatively() {
  if (!("BarcodeDetector" in window)) return false;
  const formats = await window.BarcodeDetector.getSupportedFormats().catch(() => []);
  return formats.includes("qr_code");
}

async function fetchPlan(url) {
  let response;
  try {
    response = await fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" });
  } catch {
    throw new Error("需要联网才能准备巡查。");
  }
  if (response.status === 401) throw new Error("登录已过期，请重新登录后再准备巡查。");
  if (!response.ok) throw new Error(`准备巡查失败（服务器返回 ${response.status}）。`);
  return response.json();
}

/** Send a message to the active worker; `onProgress` gets its progress, resolves on "done". */
async function askWorker(message, onProgress) {
  const registration = await navigator.serviceWorker.ready;
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = ({ data }) => {
      if (data.type === "progress") onProgress(data);
      if (data.type === "done") resolve(data);
    };
    registration.active.postMessage(message, [channel.port2]);
  });
}

function prepareSummary(plan, rooms, failures, rosters = 0) {
  let text = `已缓存 ${rooms} 个宿舍`;
  if (rosters) text += `、${rosters} 个班级的查课表`;
  if (failures) text += `，${failures} 个页面未能缓存（请联网后再试）`;
  if (plan.truncated) text += "，宿舍太多，只缓存了前面的一部分";
  if (plan.later_shifts.length) {
    const later = plan.later_shifts.map((s) => s.label).join("、");
    text += `。本周还有值班：${later}，请在值班当天再点「准备巡查」`;
  }
  return text + "。";
}

async function showLastPrepared(section) {
  const last = await outbox.getMeta("last_prepared");
  if (last) {
    section.querySelector("[data-prepare-last]").textContent =
      `上次准备：${outbox.formatTime(last.at)}，已缓存 ${last.rooms} 个宿舍。`;
  }
}

function askToKeepStorage() {
  // iOS Safari and others may clear a site's storage when space runs low: ask to keep it
  navigator.storage?.persisted?.().then((kept) => kept || navigator.storage.persist());
}

// --- logout: warn about unsent entries, then leave nothing of this person on the phone ---------

async function logOut(event) {
  event.preventDefault();
  const form = event.target;
  for (;;) {
    const { pending, problems } = await outbox.summary();
    if (pending + problems === 0) break;
    const choice = await askAboutUnsent(pending + problems);
    if (choice === "logout") break;
    if (choice !== "sync") return;
    await replay();
  }
  let response;
  try {
    response = await fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      headers: { "x-csrftoken": cookie("csrftoken") },
    });
  } catch {
    alert("没有网络，无法退出登录。请联网后再试。");
    return;
  }
  // the login page comes next whatever happens here: a worker still installing can make
  // emptying fail ("The connection was closed"), and the server's Clear-Site-Data empties
  // the browser anyway
  await wipePhone().catch(() => {});
  location.assign(response.url);
}

function askAboutUnsent(count) {
  const dialog = document.querySelector("[data-logout-warning]");
  dialog.querySelector("[data-unsynced-count]").textContent = count;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) =>
    dialog.addEventListener("close", () => resolve(dialog.returnValue), { once: true }),
  );
}

/** The server also sends Clear-Site-Data; browsers without it are emptied here. */
async function wipePhone() {
  await outbox.wipe();
  for (const name of await caches.keys()) {
    if (name.startsWith("xg-")) await caches.delete(name);
  }
  for (const registration of await navigator.serviceWorker.getRegistrations()) {
    await registration.unregister();
  }
}

// --- after a visit: 扫下一间, 下一间 and tonight's rooms, from the round 准备巡查 kept -------------

/** The room ids visited tonight: those the server knew when preparing, and the visits in the outbox. */
async function visitedTonight(since) {
  const from = new Date(since);
  const waiting = (await outbox.list()).filter(
    (item) => item.kind === "dorm_visit" && item.op === "create" && new Date(item.recorded_at) >= from,
  );
  return waiting.map((item) => Number(item.form.room_id));
}

function collegeDay(date) {
  return new Date(date.getTime() + 8 * 3600 * 1000).toISOString().slice(0, 10); // UTC+8
}

/** The offline "saved" fragment after a dorm visit: 扫下一间 and the next room not visited. */
async function showNextOffline(section) {
  const items = await outbox.list();
  const last = items.reduce((a, b) => ((b.mutation_no || 0) > (a?.mutation_no || 0) ? b : a), null);
  if (!last || last.kind !== "dorm_visit") return;
  section.querySelector("[data-offline-next]").hidden = false;
  const round = await outbox.getMeta("tonight");
  if (!round || round.date !== collegeDay(new Date())) return;
  const visited = new Set([...round.visited, ...(await visitedTonight(round.since))]);
  const ids = round.rooms.map((r) => r.id);
  const here = ids.indexOf(Number(last.form.room_id));
  const order = [...round.rooms.slice(here + 1), ...round.rooms.slice(0, here + 1)];
  const next = order.find((r) => !visited.has(r.id));
  const link = section.querySelector("[data-next-room]");
  if (!next) return;
  link.href = next.url;
  link.textContent = `下一间：${next.title}`;
  link.hidden = false;
}

/** 今晚的宿舍 (possibly a cached copy): tick the rooms whose visits wait in the outbox too. */
async function tickTonight(section) {
  const waiting = new Set(await visitedTonight(section.dataset.since));
  const rows = [...section.querySelectorAll("[data-room-id]")];
  for (const row of rows) {
    if (!waiting.has(Number(row.dataset.roomId))) continue;
    row.classList.add("visited");
    row.querySelector("[data-tick]").hidden = false;
  }
  const count = section.querySelector("[data-tonight-count]");
  count.textContent = `已走访 ${rows.filter((r) => r.classList.contains("visited")).length} / ${rows.length}`;
}

document.addEventListener("htmx:load", (event) => {
  const saved = event.detail.elt.closest?.("[data-saved-offline]") || event.detail.elt.querySelector?.("[data-saved-offline]");
  if (saved) showNextOffline(saved);
});

// --- start ------------------------------------------------------------------------------------

if ("serviceWorker" in navigator) {
  // without a connection the worker script cannot be fetched, and leaving the page while it
  // registers aborts it: the next page load registers it
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
}
startReplay();
const prepare = document.querySelector("[data-prepare]");
if (prepare) {
  prepare.querySelector("[data-prepare-start]").addEventListener("click", () => prepareForRounds(prepare));
  showLastPrepared(prepare);
}
document.querySelector("[data-logout]")?.addEventListener("submit", logOut);
const tonight = document.querySelector("[data-tonight]");
if (tonight) tickTonight(tonight);
// the tab bar marks the page it is on
for (const tab of document.querySelectorAll(".tabbar a")) {
  if (new URL(tab.href).pathname === location.pathname) tab.setAttribute("aria-current", "page");
}
