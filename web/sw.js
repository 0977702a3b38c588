// 学工随行 service worker: the app shell, pages kept for offline use, and saves made without
// a connection caught into the outbox (web/static/outbox.js). Hand-written; read it top down.
//
// Pages: network first; after PAGE_TIMEOUT_MS the cached copy, marked "离线 · 数据截至 …";
// then the offline page (for a door label: the "not prepared" page). Static files: cache
// first. A form post carrying `_kind` that cannot reach the server goes to the outbox and is
// answered at once. htmx fragments and JSON are never cached.

const VERSION = "v13"; // bump when a shell page changes (the server adds the files' hashes)
const SHELL_CACHE = `xg-shell-${VERSION}`;
// pages kept for offline use (准备巡查 and pages visited); they survive worker updates
const PAGES_CACHE = "xg-pages-v1";
const OWN_CACHE = /^xg-/; // caches this worker may delete; anything else is not ours

// asset("/static/<file>"): the server (server/routes/pwa.py) serves this script with the
// file's content hash added, "/static/<file>?v=<hash>", the address pages ask for: a file a
// page already loaded comes from the browser's HTTP cache at install, not again over the air,
// and a changed file changes this script, so the browser installs the new worker
const asset = (url) => url;

const OFFLINE_PAGE = "/offline";
const DOOR_NOT_PREPARED = "/offline/door";
const SAVED_FRAGMENT = "/offline/saved";
const OUTBOX_PAGE = "/outbox";
// kept at install, which may be on the login page: what every page loads, and the pages
// shown without a connection (SHELL_PAGES). A page's own script (conflicts.js: the conflict
// pages, which need the server anyway) is kept when the page first loads it (cacheFirst).
const SHELL = [
  asset("/static/htmx.min.js"),
  asset("/static/app.css"),
  asset("/static/app.js"),
  asset("/static/outbox.js"),
  asset("/static/forms.js"), // the student picker, counters and 时间 on the record forms
  asset("/static/npm/idb/umd.js"),
  asset("/static/install.js"),
];
// the pages shown without a connection, in one response (GET SHELL_PAGES_URL) at install
const SHELL_PAGES = [OFFLINE_PAGE, DOOR_NOT_PREPARED, SAVED_FRAGMENT, OUTBOX_PAGE];
const SHELL_PAGES_URL = "/offline/shell";
// kept by 准备巡查 (and by any page that loads them online, cacheFirst): the scripts of the
// pages it caches, and 扫码 offline (the scanner page and its script; the decoder below only
// where needed). Not at install: a tenth of a first load that many never use.
const ROUNDS_FILES = [
  asset("/static/attendance.js"), // the attendance check form, opened offline from a cached page
  asset("/static/photos.js"), // photos on the visit form, kept with the outbox item
  asset("/static/students.js"), // 离线查找学生, the list 准备巡查 caches (/students/offline)
  "/scan",
  asset("/static/scan.js"),
];
// the QR decoder for browsers without a BarcodeDetector that reads QR codes (about 1 MB of
// wasm, 363 KB compressed): not fetched at install (that was on the login page), but by
// 准备巡查 on such a browser, or by the scanner page when it first needs it (cacheFirst keeps it)
const DECODER = [
  asset("/static/npm/zxing-wasm/es/reader/index.js"),
  "/static/npm/zxing-wasm/es/share.js", // imported by the reader under this name
  asset("/static/npm/zxing-wasm/reader/zxing_reader.wasm"),
];
const DOOR_PATH = /^\/d\//; // door labels: /d/<token>
// 公示 pages (/p/<token>) are revocable: never kept, always from the server
const PUBLICATION_PATH = /^\/p\//;
// photos are student data served only to those who may read the record: never kept here
const NEVER_CACHED = /^\/photos\//;
const STUDENTS_PATH = /^\/students(\/|$)/; // 查找学生 and students' pages
const STUDENTS_OFFLINE = "/students/offline"; // cached by 准备巡查: search there without signal

const PAGE_TIMEOUT_MS = 3000; // a corridor with one bar: show the cached page instead
const SAVE_TIMEOUT_MS = 10000; // a save slower than this goes to the outbox (sent once later)
const PREPARE_PARALLEL = 4; // pages fetched at once while preparing for rounds
const SYNC_TAG = "xg-outbox"; // Background Sync (Chromium); pages replay on their own too

importScripts(asset("/static/npm/idb/umd.js"), asset("/static/outbox.js"));

// --- life cycle ---------------------------------------------------------------------------

self.addEventListener("install", (event) => {
  event.waitUntil(precache().then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(dropOldCaches().then(() => self.clients.claim()));
});

async function precache() {
  const cache = await caches.open(SHELL_CACHE);
  await cache.addAll(SHELL.map(shellRequest));
  const kept = await keepBundle(cache, SHELL_PAGES_URL);
  if (SHELL_PAGES.some((url) => !kept.has(url))) throw new Error("the shell pages are not kept");
  // a phone that prepared rounds under the previous worker keeps their files (their new
  // versions): the pages 准备巡查 kept ask for them offline; a first install skips this
  if (await caches.match("/scan", { ignoreSearch: true })) {
    await cache.addAll(ROUNDS_FILES.map(shellRequest)).catch(() => {});
  }
}

// A file under its hash never changes: the copy the page has just loaded comes from the
// browser's HTTP cache, not again over the air. Pages are asked of the server.
function shellRequest(url) {
  const mode = url.includes("?v=") ? "default" : "no-cache";
  return new Request(url, { cache: mode });
}

async function dropOldCaches() {
  const keep = [SHELL_CACHE, PAGES_CACHE];
  const names = await caches.keys();
  await Promise.all(
    names.filter((n) => OWN_CACHE.test(n) && !keep.includes(n)).map((n) => caches.delete(n)),
  );
}

// --- requests -----------------------------------------------------------------------------

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (NEVER_CACHED.test(url.pathname)) return; // straight to the network, never a cache
  if (request.method === "POST" && isFormPost(request)) {
    event.respondWith(save(request));
  } else if (request.method !== "GET") {
    return; // JSON posts (/sync/push) go to the network untouched
  } else if (PUBLICATION_PATH.test(url.pathname)) {
    return; // a revoked 公示 must be gone at once, offline too: the network only
  } else if (url.pathname.startsWith("/static/")) {
    event.respondWith(cacheFirst(request));
  } else if (request.mode === "navigate" || isPageRequest(request)) {
    event.respondWith(page(event));
  }
  // anything else (htmx fragments, JSON such as /rounds/plan) is never cached
});

function isFormPost(request) {
  const type = request.headers.get("Content-Type") || "";
  return type.startsWith("application/x-www-form-urlencoded") || type.startsWith("multipart/");
}

function isPageRequest(request) {
  const accept = request.headers.get("Accept") || "";
  return accept.includes("text/html") && !request.headers.has("HX-Request");
}

// Pages ask for /static/<file>?v=<content hash>; the shell holds /static/<file>. A version
// never seen is fetched (and kept); without a connection any kept copy of the file serves,
// so a page cached by an older release still opens offline.
async function cacheFirst(request) {
  const cached = await caches.match(request, { ignoreVary: true });
  if (cached) return cached;
  try {
    const response = await fetch(request);
    if (response.ok && response.type === "basic") {
      const cache = await caches.open(SHELL_CACHE);
      await cache.put(request, response.clone());
    }
    return response;
  } catch (error) {
    const anyVersion = await caches.match(request, { ignoreVary: true, ignoreSearch: true });
    if (anyVersion) return anyVersion;
    throw error;
  }
}

async function page(event) {
  const request = event.request;
  // pages with a query (/records?saved=…) are one-offs: not worth a cache entry each
  const worthKeeping = !new URL(request.url).search;
  const fromNetwork = fetch(request).then(async (response) => {
    if (worthKeeping && keepable(response)) {
      const cache = await caches.open(PAGES_CACHE);
      await cache.put(request, response.clone());
    }
    return response;
  });
  event.waitUntil(fromNetwork.catch(() => {})); // a late answer still refreshes the cache
  try {
    const response = await within(PAGE_TIMEOUT_MS, fromNetwork);
    if (response.status < 500) return response; // redirects to /login, 403 and 404 included
    return (await cachedPage(request)) || response;
  } catch {
    // no connection, or too slow
  }
  return (await cachedPage(request)) || fallbackPage(request);
}

/** Only full pages answered by us, as they are: no redirects, errors or fragments. */
function keepable(response) {
  return (
    response.ok &&
    response.type === "basic" &&
    !response.redirected &&
    (response.headers.get("Content-Type") || "").startsWith("text/html")
  );
}

async function cachedPage(request) {
  const path = new URL(request.url).pathname;
  // 查找学生 searches the server as you type: without signal, the list 准备巡查 kept instead
  if (path === "/students") {
    const prepared = await caches.match(STUDENTS_OFFLINE, { ignoreVary: true });
    if (prepared) return markOffline(prepared);
  }
  if (SHELL_PAGES.includes(path) || ROUNDS_FILES.includes(path)) {
    // shell pages show the phone's own data (outbox): no "data as of" mark; ?saved=… ignored
    return caches.match(request, { ignoreVary: true, ignoreSearch: true });
  }
  const cached = await caches.match(request, { ignoreVary: true });
  return cached && markOffline(cached);
}

/** The cached page with a visible "离线 · 数据截至 HH:MM" line at the top of its body. */
async function markOffline(response) {
  const rendered = response.headers.get("Date");
  const asOf = rendered ? self.xgOutbox.formatTime(rendered) : "未知";
  const banner = `<p class="offline-banner" role="status" data-offline-copy>离线 · 数据截至 ${asOf}</p>`;
  const html = (await response.text()).replace(/<body[^>]*>/i, (tag) => tag + banner);
  return new Response(html, {
    status: response.status,
    headers: { "Content-Type": "text/html; charset=utf-8" },
  });
}

async function fallbackPage(request) {
  const path = new URL(request.url).pathname;
  if (STUDENTS_PATH.test(path)) {
    const prepared = await caches.match(STUDENTS_OFFLINE, { ignoreVary: true });
    if (prepared) return markOffline(prepared);
  }
  const page = await caches.match(DOOR_PATH.test(path) ? DOOR_NOT_PREPARED : OFFLINE_PAGE);
  return page || new Response("离线：这个页面没有缓存。", { status: 503 });
}

function within(ms, promise) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    promise.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}

// --- saving a form: server first, the outbox when it cannot be reached --------------------

async function save(request) {
  const form = await request
    .clone()
    .formData()
    .catch(() => null);
  if (!form || !form.has("_kind")) return passThrough(request); // login, logout …
  let response = null;
  try {
    response = await within(SAVE_TIMEOUT_MS, fetch(request));
    // taken (2xx, a redirect), or its content refused: the answer shows why, beside the form
    if (response.status < 400 || response.status === 400 || response.status === 422) {
      return response;
    }
  } catch {
    // no connection, or too slow: if it did arrive, the replay is answered "duplicate"
  }
  // also 401 (login expired), 403, 5xx: what was written must not be lost
  const item = await self.xgOutbox.add(form);
  await self.registration.sync?.register(SYNC_TAG).catch(() => {});
  return savedAnswer(request, item);
}

async function savedAnswer(request, item) {
  if (request.headers.has("HX-Request")) {
    const fragment = await caches.match(SAVED_FRAGMENT);
    const html = fragment ? await fragment.text() : "<p class='ok'>已离线保存，联网后自动同步</p>";
    return new Response(html, { headers: { "Content-Type": "text/html; charset=utf-8" } });
  }
  // a plain form post: show it in the outbox list, as the server would redirect (303)
  const target = new URL(OUTBOX_PAGE, self.location.origin);
  target.searchParams.set("saved", item.id);
  return Response.redirect(target.href, 303);
}

async function passThrough(request) {
  try {
    return await fetch(request);
  } catch (error) {
    if (request.mode !== "navigate") throw error;
    return fallbackPage(request);
  }
}

// --- replay and preparing for rounds -------------------------------------------------------

self.addEventListener("sync", (event) => {
  if (event.tag === SYNC_TAG) event.waitUntil(replay());
});

async function replay() {
  const result = await self.xgOutbox.sync();
  // still no connection: fail, so the browser tries again later (a login waits for the user)
  if (result.state === "offline") throw new Error("the outbox is not sent yet");
}

self.addEventListener("message", (event) => {
  const [port] = event.ports;
  if (event.data?.type === "prepare" && port) {
    event.waitUntil(prepare(event.data.items, event.data.roomsUrl, port));
  } else if (event.data?.type === "decoder" && port) {
    event.waitUntil(keepDecoder(port));
  }
});

/** Fetch and keep every page of the plan; tell the page how far it got. The rooms' door
 * pages come in one response (`roomsUrl`, GET /rounds/rooms: keepBundle), the others one by
 * one. */
async function prepare(items, roomsUrl, port) {
  const cache = await caches.open(PAGES_CACHE);
  const rooms = roomsUrl ? items.filter((item) => item.kind === "room") : [];
  const queue = items.filter((item) => !rooms.includes(item));
  const failed = [];
  let done = 0;
  const progress = (count) => {
    done += count;
    port.postMessage({ type: "progress", done, total: items.length });
  };
  async function fetchNext() {
    for (let item = queue.shift(); item; item = queue.shift()) {
      if (!(await keepPage(cache, item.url))) failed.push(item.url);
      progress(1);
    }
  }
  async function fetchRooms() {
    if (!rooms.length) return;
    const kept = await keepBundle(cache, roomsUrl);
    for (const room of rooms) if (!kept.has(room.url)) failed.push(room.url);
    progress(rooms.length);
  }
  await Promise.all([fetchRooms(), ...Array.from({ length: PREPARE_PARALLEL - 1 }, fetchNext)]);
  const shell = await caches.open(SHELL_CACHE);
  for (const url of ROUNDS_FILES) {
    if (await shell.match(url)) continue;
    await shell.add(shellRequest(url)).catch(() => failed.push(url));
  }
  port.postMessage({ type: "done", total: items.length, failed });
}

async function keepDecoder(port) {
  const cache = await caches.open(SHELL_CACHE);
  const missing = [];
  for (const url of DECODER) if (!(await cache.match(url))) missing.push(url);
  try {
    await cache.addAll(missing);
    port.postMessage({ type: "done", failed: [] });
  } catch {
    port.postMessage({ type: "done", failed: missing });
  }
}

/** The pages of a bundle (server/bundles.py: GET /rounds/rooms, /offline/shell), each kept
 * as if it had been fetched on its own (its Date header says when: "离线 · 数据截至 …");
 * the set of URLs kept. */
async function keepBundle(cache, url) {
  const kept = new Set();
  try {
    const response = await fetch(url, { cache: "no-store", headers: { Accept: "application/json" } });
    if (!response.ok || response.redirected) return kept;
    const date = response.headers.get("Date") || new Date().toUTCString();
    const { pages } = await response.json();
    for (const { url: pageUrl, html } of pages) {
      const headers = { "Content-Type": "text/html; charset=utf-8", Date: date };
      await cache.put(pageUrl, new Response(html, { headers }));
      kept.add(pageUrl);
    }
  } catch {
    // no connection: no page of the bundle is kept
  }
  return kept;
}

async function keepPage(cache, url) {
  try {
    const response = await fetch(url, { cache: "no-store", headers: { Accept: "text/html" } });
    if (!keepable(response)) return false;
    await cache.put(url, response);
    return true;
  } catch {
    return false;
  }
}
