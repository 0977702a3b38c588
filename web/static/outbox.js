// 学工随行 outbox: entries saved without a connection wait in IndexedDB until the server has
// acknowledged them (POST /sync/push). One module for both sides: pages load it with a
// <script> tag, the service worker with importScripts(); both load idb's UMD build first.
//
// An item is a mutation as /sync/push takes it, plus what the phone needs to show it:
//   { id, op, kind, form, base_revision, schema_version, recorded_at, mutation_no,
//     label, status: "pending" | "conflict" | "rejected", reason, photos }
// `photos` (a visit's evidence, web/static/photos.js) are Blobs, uploaded to /sync/photos
// once the entry is stored; the item leaves the phone only when they all are. A delete
// (op "delete", from the delete form) carries its reason in `form.reason`.
// `form` holds the form's fields exactly as the HTML form posts them (the server maps them
// with the kind's own form mapping); fields whose names start with "_" are for the phone
// (CSRF token, kind, form version, label) and are not sent.
(function (scope) {
  "use strict";

  const DB_NAME = "xuegong";
  const DB_VERSION = 1;
  const PUSH_URL = "/sync/push";
  const PHOTO_URL = "/sync/photos";
  // up to 100 a push (the server takes 200): each push is a round trip and a commit, and a
  // dorm visit is about 1 KB, so 100 still fit in the push timeout on a slow corridor link
  const BATCH_SIZE = 100;
  const PUSH_TIMEOUT_MS = 20000; // a push slower than this is treated as no connection
  const CHANNEL = "xg-outbox"; // BroadcastChannel: every page redraws its badge on a change
  const SYNC_LOCK = "xg-outbox-sync"; // Web Lock: one replay at a time (pages and worker)
  const LABELS = { pending: "待同步", conflict: "冲突", rejected: "被拒绝" };

  let dbPromise = null;
  let running = null; // the replay in progress, where Web Locks are missing
  const announcer = new BroadcastChannel(CHANNEL);

  // --- storage ----------------------------------------------------------------------------

  function openDb() {
    dbPromise ??= scope.idb.openDB(DB_NAME, DB_VERSION, {
      upgrade(db) {
        const items = db.createObjectStore("outbox", { keyPath: "id" });
        items.createIndex("mutation_no", "mutation_no", { unique: true });
        db.createObjectStore("meta"); // device_id, last_mutation_no, last_sync_at, …
      },
      // another page or the worker deletes the database (logout): let it go through
      blocking: close,
      terminated: () => (dbPromise = null),
    });
    return dbPromise;
  }

  function close() {
    if (dbPromise) dbPromise.then((db) => db.close()).catch(() => {});
    dbPromise = null;
  }

  async function getMeta(key) {
    return (await openDb()).get("meta", key);
  }

  async function setMeta(key, value) {
    await (await openDb()).put("meta", value, key);
    announce();
  }

  async function list() {
    return (await openDb()).getAllFromIndex("outbox", "mutation_no");
  }

  async function remove(id) {
    await (await openDb()).delete("outbox", id);
    announce();
  }

  async function summary() {
    const items = await list();
    const pending = items.filter((item) => item.status === "pending").length;
    return {
      pending,
      problems: items.length - pending,
      loginExpired: Boolean(await getMeta("login_expired")),
      lastSyncAt: await getMeta("last_sync_at"),
    };
  }

  /** Delete the whole database (logout on a shared phone). */
  async function wipe() {
    close();
    await scope.idb.deleteDB(DB_NAME);
    announce();
  }

  // --- adding a saved form ----------------------------------------------------------------

  function formFields(formData) {
    const fields = {};
    const phone = {};
    for (const [name, value] of formData.entries()) {
      if (typeof value !== "string") continue; // these forms have no file fields
      const target = name.startsWith("_") ? phone : fields;
      target[name] = name in target ? [].concat(target[name], value) : value;
    }
    return { fields, phone };
  }

  /**
   * The device id and the next mutation number, inside the caller's readwrite transaction
   * over "outbox" and "meta": IndexedDB runs such transactions one after another, so two
   * tabs (or a tab and the worker) never take the same number. The server answers a number
   * only for what it first carried (docs/sync.md, "Devices"), so a device id must never
   * count from 1 again: without its counter (storage cleared, a reinstall) the phone takes a
   * new device id, and a number is never below one still waiting in the outbox.
   */
  async function nextNumber(meta, items) {
    let deviceId = await meta.get("device_id");
    let last = await meta.get("last_mutation_no");
    if (!deviceId || !Number.isSafeInteger(last) || last < 0) {
      deviceId = scope.crypto.randomUUID();
      last = 0;
    }
    const newest = await items.index("mutation_no").openCursor(null, "prev");
    const waiting = newest ? Number(newest.value.mutation_no) || 0 : 0;
    return { deviceId, mutationNo: Math.max(last, waiting) + 1 };
  }

  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

  /** A datetime-local value on the college's clock (UTC+8, no daylight saving) as an ISO
   * moment, or "" — the server reads the same field the same way (server/routes/forms.py). */
  function occurredAt(value) {
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?$/.test(value || "")) return "";
    const moment = new Date(value + (value.length === 16 ? ":00" : "") + "+08:00");
    return Number.isNaN(moment.getTime()) ? "" : moment.toISOString();
  }

  /**
   * Queue a saved form (FormData), with its photos (Blobs) if any; returns the item. The
   * same save twice is stored once.
   */
  async function add(formData, photos = []) {
    const { fields, phone } = formFields(formData);
    const db = await openDb();
    // one transaction: the mutation number is taken and the item stored together
    const tx = db.transaction(["outbox", "meta"], "readwrite");
    const meta = tx.objectStore("meta");
    const items = tx.objectStore("outbox");
    const { deviceId, mutationNo } = await nextNumber(meta, items);
    // the page puts a fresh UUIDv7 into entry_id; random ids only cover a form without one
    let id = UUID.test(fields.entry_id || "") ? fields.entry_id : scope.crypto.randomUUID();
    // an edit form (_op=update) or the delete form (_op=delete) names the revision it started
    // from; the server re-checks it
    const op = ["update", "delete"].includes(phone._op) ? phone._op : "create";
    const baseRevision = op !== "create" ? Number(fields.base_revision) || null : null;
    const earlier = await items.get(id);
    if (earlier && JSON.stringify(earlier.form) === JSON.stringify(fields)) {
      await tx.done;
      return earlier;
    }
    // a second edit (or a delete) of the same record before either was sent replaces the
    // first (same base)
    const replaces = earlier && op !== "create" && earlier.op !== "create";
    if (earlier && !replaces) id = scope.crypto.randomUUID(); // an id reused for other content
    fields.entry_id = id;
    const item = {
      id,
      op,
      kind: phone._kind,
      form: fields,
      base_revision: replaces ? earlier.base_revision : baseRevision,
      schema_version: Number(phone._schema_version) || 1,
      // a talk's or contact's 时间 typed in the form (web/static/forms.js), else the phone's now
      recorded_at: occurredAt(phone._recorded_at) || new Date().toISOString(),
      mutation_no: mutationNo,
      label: phone._label || phone._kind,
      status: "pending",
      reason: null,
      photos: photos.slice(0, 3),
    };
    await Promise.all([
      meta.put(deviceId, "device_id"),
      meta.put(mutationNo, "last_mutation_no"),
      replaces ? items.put(item) : items.add(item),
      tx.done,
    ]);
    announce();
    return item;
  }

  // --- replay -----------------------------------------------------------------------------

  /**
   * Send the pending items, oldest first, one batch at a time. Resolves to
   * { state, sent } with state "done" (nothing pending left), "offline" (no connection or
   * server trouble: retry later), "login" (session expired: kept until the user logs in),
   * "refused" (the server refused the request itself, e.g. 403: kept, shown) or "busy".
   */
  function sync() {
    if (scope.navigator.locks) {
      return scope.navigator.locks.request(SYNC_LOCK, { ifAvailable: true }, (lock) =>
        lock ? pushAll() : { state: "busy", sent: 0 },
      );
    }
    running ??= pushAll().finally(() => (running = null));
    return running;
  }

  async function pushAll() {
    let sent = 0;
    let batchSize = BATCH_SIZE;
    for (;;) {
      const batch = (await list()).filter((i) => i.status === "pending").slice(0, batchSize);
      if (!batch.length) return finish({ state: "done", sent });
      const answer = await push(batch);
      if (answer.state === "refused" && [413, 422].includes(answer.status)) {
        if (batchSize > 1) {
          batchSize = 1; // find the one item the server cannot take
          continue;
        }
        await settle(batch, [{ id: batch[0].id, status: "rejected", reason: answer.reason }]);
        continue;
      }
      if (answer.state !== "ok") return finish({ ...answer, sent });
      const { left, photos } = await settle(batch, answer.results);
      sent += batch.length - left;
      if (photos !== "ok") return finish({ state: photos, sent }); // tried again later
      if (left === batch.length) return finish({ state: "refused", sent }); // no progress
    }
  }

  async function push(batch) {
    const deviceId = await getMeta("device_id");
    let response;
    try {
      response = await fetch(PUSH_URL, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ device_id: deviceId, mutations: batch.map(mutation) }),
        signal: AbortSignal.timeout(PUSH_TIMEOUT_MS),
      });
    } catch {
      return { state: "offline" };
    }
    // 401, or a detour to the login page: the session is gone, the items stay
    if (response.status === 401 || response.redirected) {
      await setMeta("login_expired", true);
      return { state: "login" };
    }
    if (response.status >= 500) return { state: "offline" };
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      const reason = body.detail || `服务器拒绝了这条记录（${response.status}）。`;
      return { state: "refused", status: response.status, reason };
    }
    await setMeta("login_expired", false);
    await setMeta("last_sync_at", new Date().toISOString());
    return { state: "ok", results: body.results || [] };
  }

  function mutation(item) {
    const { label, status, reason, photos, ...sent } = item; // the phone's own fields stay here
    return sent;
  }

  /**
   * Apply the server's answers; returns { left: how many items of the batch are still
   * pending, photos: "ok" | "offline" | "login" } — an item whose entry is stored but whose
   * photos could not all be sent stays pending (its resend is a duplicate).
   */
  async function settle(batch, results) {
    const db = await openDb();
    const tx = db.transaction("outbox", "readwrite");
    const byId = new Map(batch.map((item) => [item.id, item]));
    const withPhotos = [];
    for (const result of results) {
      const item = byId.get(result.id);
      if (!item) continue;
      byId.delete(result.id);
      if (result.status === "applied" || result.status === "duplicate") {
        if (item.photos?.length) withPhotos.push(item); // leaves once its photos are stored
        else tx.store.delete(item.id); // acknowledged: only now may it leave the phone
      } else if (result.status === "conflict" || result.status === "rejected") {
        // permanent: shown with the server's reason, not sent again
        tx.store.put({ ...item, status: result.status, reason: result.reason || null });
      } else {
        byId.set(item.id, item); // an answer we do not know: keep it pending
      }
    }
    await tx.done;
    let left = byId.size;
    let photos = "ok";
    for (const item of withPhotos) {
      const sent = photos === "ok" ? await sendPhotos(item) : { state: photos };
      if (sent.state === "ok") {
        await db.delete("outbox", item.id);
      } else if (sent.state === "refused") {
        const why = `记录已保存，但照片未能保存：${sent.reason}`;
        await db.put("outbox", { ...item, status: "rejected", reason: why });
      } else {
        left += 1;
        photos = sent.state; // offline or login: the rest waits too
      }
    }
    announce();
    return { left, photos };
  }

  /** Upload an item's photos, one request each; the server answers a resent one the same. */
  async function sendPhotos(item) {
    for (const [index, photo] of item.photos.entries()) {
      const url = `${PHOTO_URL}?entry_id=${encodeURIComponent(item.id)}&position=${index + 1}`;
      let response;
      try {
        response = await fetch(url, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": photo.type || "image/jpeg", Accept: "application/json" },
          body: photo,
          signal: AbortSignal.timeout(PUSH_TIMEOUT_MS),
        });
      } catch {
        return { state: "offline" };
      }
      if (response.status === 401 || response.redirected) {
        await setMeta("login_expired", true);
        return { state: "login" };
      }
      if (response.status >= 500) return { state: "offline" };
      if (!response.ok) {
        const body = await response.json().catch(() => ({}));
        return { state: "refused", reason: body.detail || `服务器返回 ${response.status}` };
      }
    }
    return { state: "ok" };
  }

  function finish(result) {
    announce();
    return result;
  }

  // --- telling pages ----------------------------------------------------------------------

  function announce() {
    announcer.postMessage("changed");
  }

  /** Call `listener` whenever the outbox changes, in this page, another one or the worker. */
  function onChange(listener) {
    new BroadcastChannel(CHANNEL).addEventListener("message", () => listener());
  }

  /** "19:40" today, "11-24 19:40" another day (the phone's own clock and time zone). */
  function formatTime(value) {
    const when = new Date(value);
    const pad = (n) => String(n).padStart(2, "0");
    const time = `${pad(when.getHours())}:${pad(when.getMinutes())}`;
    if (when.toDateString() === new Date().toDateString()) return time;
    return `${pad(when.getMonth() + 1)}-${pad(when.getDate())} ${time}`;
  }

  scope.xgOutbox = {
    add,
    list,
    remove,
    summary,
    sync,
    getMeta,
    setMeta,
    wipe,
    onChange,
    formatTime,
    LABELS,
  };
})(self);
