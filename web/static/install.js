// Installing the app: the browser's install prompt (beforeinstallprompt, Chromium only),
// offered once on the home page and always on the 安装到手机 page. iPhones and WeChat have no
// such event; the /install page explains their steps.

const OFFERED = "xg-install-offered"; // localStorage: the home-page offer was answered once
let promptEvent = null;

function installed() {
  return matchMedia("(display-mode: standalone)").matches || navigator.standalone === true;
}

function show(selector, visible) {
  for (const element of document.querySelectorAll(selector)) element.hidden = !visible;
}

window.addEventListener("beforeinstallprompt", (event) => {
  event.preventDefault(); // our own offer, at our time, instead of the browser's bar
  promptEvent = event;
  show("[data-install-button]", true);
  show("[data-install-offer]", !localStorage.getItem(OFFERED));
});

window.addEventListener("appinstalled", () => {
  localStorage.setItem(OFFERED, "installed");
  show("[data-install-offer], [data-install-button]", false);
  show("[data-installed]", true);
});

async function install() {
  if (!promptEvent) return;
  promptEvent.prompt();
  const { outcome } = await promptEvent.userChoice;
  localStorage.setItem(OFFERED, outcome); // accepted or dismissed: never offered again
  promptEvent = null;
  show("[data-install-offer], [data-install-button]", false);
}

for (const button of document.querySelectorAll("[data-install-button]")) {
  button.addEventListener("click", install);
}
document.querySelector("[data-install-dismiss]")?.addEventListener("click", () => {
  localStorage.setItem(OFFERED, "dismissed");
  show("[data-install-offer]", false);
});
show("[data-installed]", installed());
if (installed()) show("[data-install-link]", false); // already opened from the home screen
