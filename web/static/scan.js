// 扫码: read a door label with the rear camera and open its form inside the app, where the
// pages cached by 准备巡查 and the outbox are (a QR link opened by the camera app or WeChat
// lands in another browser's storage). Only this app's door URLs are opened: same origin,
// path /d/<token>; anything else gets a message and no navigation.
//
// Decoding: the browser's BarcodeDetector where it reads QR codes (Android Chrome), else
// zxing-wasm from npm, served from /static and kept in the service worker's shell.

const SCAN_EVERY_MS = 200; // a frame five times a second: quick enough, easy on the battery
const DOOR_PATH = /^\/d\/[\w.-]+$/; // as the service worker's DOOR_PATH

const section = document.querySelector("[data-scanner]");
const video = section.querySelector("[data-scanner-video]");
const statusLine = section.querySelector("[data-scan-status]");
const message = section.querySelector("[data-scan-message]");
let stream = null;

/** The in-app path of a door label's URL; null for any other text or site. */
function doorPath(text) {
  let url;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if (url.origin !== location.origin || !DOOR_PATH.test(url.pathname)) return null;
  return url.pathname;
}

const CAMERA_PROBLEMS = {
  NotAllowedError: "没有摄像头权限：请在浏览器或系统设置里允许学工随行使用相机，或手动查找宿舍。",
  SecurityError: "没有摄像头权限：请在浏览器或系统设置里允许学工随行使用相机，或手动查找宿舍。",
  NotFoundError: "这台手机没有可用的摄像头，请手动查找宿舍。",
  OverconstrainedError: "这台手机没有可用的摄像头，请手动查找宿舍。",
  NotReadableError: "摄像头正被其他应用使用：关掉它后重新打开本页，或手动查找宿舍。",
};

function showProblem(text) {
  statusLine.hidden = true;
  message.textContent = text;
  message.hidden = false;
}

async function openCamera() {
  if (!navigator.mediaDevices?.getUserMedia) {
    throw Object.assign(new Error("这个浏览器不能使用摄像头，请手动查找宿舍。"), { shown: true });
  }
  try {
    // "ideal": the rear camera where there is one, any camera otherwise
    return await navigator.mediaDevices.getUserMedia({
      video: { facingMode: { ideal: "environment" } },
      audio: false,
    });
  } catch (error) {
    const text = CAMERA_PROBLEMS[error.name] || `无法打开摄像头（${error.name}），请手动查找宿舍。`;
    throw Object.assign(new Error(text), { shown: true });
  }
}

/** A function from the video to the texts of the QR codes in its current frame. */
async function makeDecoder() {
  if ("BarcodeDetector" in window) {
    const formats = await window.BarcodeDetector.getSupportedFormats().catch(() => []);
    if (formats.includes("qr_code")) {
      const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      return async (source) => (await detector.detect(source)).map((code) => code.rawValue);
    }
  }
  const zxing = await import(section.dataset.decoderUrl);
  const wasmUrl = section.dataset.wasmUrl;
  // never the library's default (a CDN): the copy served by this app, cached for offline use
  await zxing.prepareZXingModule({
    overrides: { locateFile: (path, prefix) => (path.endsWith(".wasm") ? wasmUrl : prefix + path) },
    fireImmediately: true,
  });
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  return async (source) => {
    canvas.width = source.videoWidth;
    canvas.height = source.videoHeight;
    context.drawImage(source, 0, 0);
    const frame = context.getImageData(0, 0, canvas.width, canvas.height);
    const results = await zxing.readBarcodes(frame, { formats: ["QRCode"], maxNumberOfSymbols: 1 });
    return results.filter((r) => r.isValid).map((r) => r.text);
  };
}

function stopCamera() {
  for (const track of stream?.getTracks() || []) track.stop();
  stream = null;
}

async function scan() {
  try {
    const [camera, decode] = await Promise.all([openCamera(), makeDecoder()]);
    stream = camera;
    video.srcObject = stream;
    await video.play();
    statusLine.textContent = "请对准宿舍门上的学工随行二维码";
    for (;;) {
      if (!stream) return;
      if (video.readyState >= video.HAVE_CURRENT_DATA && video.videoWidth) {
        for (const text of await decode(video)) {
          const path = doorPath(text);
          if (path) return openDoor(path);
          message.textContent = `这不是学工随行的门牌二维码，没有打开。请扫描宿舍门上学工随行打印的门牌。（扫到的内容：${text.slice(0, 80)}）`;
          message.hidden = false;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, SCAN_EVERY_MS));
    }
  } catch (error) {
    stopCamera();
    showProblem(error.shown ? error.message : `无法扫码：${error.message}。请手动查找宿舍。`);
  }
}

function openDoor(path) {
  stopCamera();
  message.hidden = true;
  statusLine.textContent = "正在打开走访表…";
  location.assign(path); // offline too: the service worker answers with the prepared page
}

window.addEventListener("pagehide", stopCamera);
scan();
