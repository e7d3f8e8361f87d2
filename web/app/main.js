// The web app: signs in (auth.js), then shows the page the address names. Pages are
// addressed by the fragment (#/library, #/videos/<id>, ...), so the API serves one
// document; each page renders into <main> and may return what stops its timers.

import { Api } from "./api.js";
import { signIn } from "./auth.js";
import { el, fill } from "./dom.js";
import { libraryPage } from "./pages/library.js";
import { peoplePage, personPage } from "./pages/people.js";
import { reviewPage } from "./pages/review.js";
import { uploadPage } from "./pages/upload.js";
import { videoPage } from "./pages/video.js";

/** @type {[RegExp, string, Function][]} */
const ROUTES = [
  [/^\/library$/, "Library", libraryPage],
  [/^\/upload$/, "Upload", uploadPage],
  [/^\/videos\/([0-9a-f]{20}|[0-9a-f]{32})$/, "Video", videoPage],
  [/^\/people$/, "People", peoplePage],
  [/^\/people\/([0-9a-f]{32})$/, "Person", personPage],
  [/^\/review$/, "Review", reviewPage],
];

async function boot() {
  const main = /** @type {HTMLElement} */ (document.getElementById("main"));
  let session;
  try {
    const config = await (await fetch("config.json")).json();
    session = await signIn(config);
  } catch (error) {
    fill(main, el("h1", {}, "cameo"), el("p", { className: "error" }, error.message));
    return;
  }
  const who = document.getElementById("who");
  if (who) who.textContent = session.name;
  const signOut = document.getElementById("sign-out");
  if (signOut && session.signOut) {
    signOut.hidden = false;
    signOut.addEventListener("click", () => session.signOut?.());
  }
  const api = new Api(session);
  let stop = null;

  const show = async () => {
    // An in-page anchor (the skip link's #main) is not a page.
    if (location.hash && !location.hash.startsWith("#/")) return main.focus();
    if (typeof stop === "function") stop();
    stop = null;
    const [path, search = ""] = location.hash.replace(/^#/, "").split("?");
    const route = ROUTES.find(([pattern]) => pattern.test(path));
    if (!route) return location.replace("#/library");
    const [pattern, title, page] = route;
    const params = (pattern.exec(path) ?? []).slice(1);
    document.title = `${title} · cameo`;
    for (const link of document.querySelectorAll("nav a")) {
      const current = path.startsWith(/** @type {HTMLAnchorElement} */ (link).hash.slice(1));
      if (current) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    // Each page draws into a view of its own: one left behind draws into nothing.
    const view = el("div", { className: "page" }, el("p", { className: "status" }, "Loading…"));
    fill(main, view);
    main.focus({ preventScroll: true });
    try {
      const stopping = await page({ api, main: view, params, query: new URLSearchParams(search) });
      if (view.isConnected) stop = stopping;
      else if (typeof stopping === "function") stopping();
    } catch (error) {
      fill(view, el("h1", {}, title), el("p", { className: "error" }, error.message));
    }
  };
  addEventListener("hashchange", show);
  await show();
}

boot();
