// Photos as evidence on the visit form: taken with the camera input, downscaled here to at
// most MAX_SIDE px and MAX_BYTES (canvas → JPEG), kept with the outbox item in IndexedDB
// and uploaded with it (web/static/outbox.js). A visit with photos is always saved through
// the outbox, online too: the item leaves the phone only when the server has its photos.
const MAX_SIDE = 1600; // px, the longer side
const MAX_BYTES = 300 * 1024; // what the phone sends; the server takes at most 512 KB
const QUALITIES = [0.85, 0.75, 0.65, 0.55, 0.45];

const outbox = window.xgOutbox;
const taken = new WeakMap(); // form → [Blob]

/** The photo as a JPEG within MAX_SIDE and MAX_BYTES (smaller sides until it fits). */
async function downscale(file) {
  const bitmap = await createImageBitmap(file);
  let scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
  for (;;) {
    const canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(bitmap.width * scale));
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    for (const quality of QUALITIES) {
      const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", quality));
      if (blob && blob.size <= MAX_BYTES) return blob;
    }
    scale *= 0.75;
  }
}

function draw(form) {
  const box = form.querySelector("[data-photos]");
  const list = box.querySelector("[data-photo-list]");
  const photos = taken.get(form) || [];
  list.replaceChildren(
    ...photos.map((blob, index) => {
      const item = document.createElement("li");
      const image = document.createElement("img");
      image.src = URL.createObjectURL(blob);
      image.alt = `照片 ${index + 1}`;
      image.width = 96;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "link";
      remove.textContent = "移除";
      remove.addEventListener("click", () => {
        photos.splice(index, 1);
        draw(form);
      });
      item.append(image, remove);
      return item;
    }),
  );
  const max = Number(box.dataset.max) || 3;
  box.querySelector("[data-photo-input]").disabled = photos.length >= max;
  box.dataset.count = photos.length;
}

async function addPhoto(form, input) {
  const note = form.querySelector("[data-photo-note]");
  const photos = taken.get(form) || [];
  taken.set(form, photos);
  const max = Number(form.querySelector("[data-photos]").dataset.max) || 3;
  note.hidden = true;
  for (const file of input.files) {
    if (photos.length >= max) break;
    try {
      photos.push(await downscale(file));
    } catch {
      note.textContent = "这个文件不是可以读取的照片。";
      note.hidden = false;
    }
  }
  input.value = "";
  draw(form);
}

// A visit with photos goes into the outbox (with them) and is sent at once from there; one
// without photos is posted as before. Capturing at the document runs before htmx's handler.
document.addEventListener(
  "submit",
  async (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.matches("[data-photo-form]")) return;
    const photos = taken.get(form) || [];
    if (!photos.length) return;
    event.preventDefault();
    event.stopPropagation();
    form.querySelector("button[type=submit]").disabled = true;
    const item = await outbox.add(new FormData(form), photos);
    taken.delete(form);
    // not awaited past a short wait: the outbox page shows how far it got
    await Promise.race([outbox.sync(), new Promise((resolve) => setTimeout(resolve, 8000))]);
    const outboxPage = form.querySelector("[data-photos]").dataset.outboxUrl;
    location.assign(`${outboxPage}?saved=${encodeURIComponent(item.id)}`);
  },
  true,
);

function setUp(root) {
  for (const form of root.querySelectorAll("[data-photo-form]")) {
    const input = form.querySelector("[data-photo-input]");
    if (!input || input.dataset.ready) continue;
    input.dataset.ready = "1";
    input.addEventListener("change", () => addPhoto(form, input));
  }
}
setUp(document);
document.addEventListener("htmx:load", (event) => setUp(event.detail.elt.parentElement || document));
