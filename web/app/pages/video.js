// A video: the report's viewer module fed by the API (the player on a presigned URL asked
// for again before it expires, keeping the position; the people with their thumbnails;
// a lane per person; the WebVTT export as a <track>), the exports to download, and for
// those who may, the corrections (pages/curate.js).

import { ApiError } from "../api.js";
import { STATE_LABELS, el, fill } from "../dom.js";
import { mountViewer } from "../viewer.js";
import { curationPanel } from "./curate.js";

/** Ask for a new playback URL this long before the current one expires. */
const MEDIA_REFRESH_EARLY_MS = 60_000;
const UPLOAD_ID = /^[0-9a-f]{32}$/;

/** @param {{api: import("../api.js").Api, main: HTMLElement, params: string[]}} page */
export async function videoPage({ api, main, params }) {
  const [id] = params;
  performance.mark("cameo:video-start");
  const stopped = new AbortController();
  let mediaTimer = 0;
  fill(main, el("p", { className: "status" }, "Loading the video…"));

  if (UPLOAD_ID.test(id)) {
    const view = await api.get(`/videos/${id}`, stopped.signal);
    if (view.state !== "succeeded" && !view.summary) {
      const reason = view.processing?.reason;
      fill(main, el("h1", {}, view.movie?.title ?? view.fileName),
        el("p", { className: `state ${view.state}` }, STATE_LABELS[view.state] ?? view.state),
        reason ? el("p", { className: "reason" }, reason) : null,
        el("p", {}, el("a", { href: "#/library" }, "Back to the library")));
      return () => stopped.abort();
    }
  }

  const render = async () => {
    const [results, thumbnails, exports] = await Promise.all([
      api.get(`/videos/${id}/result`, stopped.signal),
      faceUrls(api, id, stopped.signal),
      api.get(`/videos/${id}/exports`, stopped.signal).catch(() => null),
    ]);
    const viewer = el("section", { className: "viewer", "aria-label": "Who appears when" });
    const downloads = exportLinks(exports);
    const curation = el("section", { className: "curation", "aria-labelledby": "curation-title" });
    fill(main, viewer, downloads, curation);
    const player = mountViewer(viewer, { results, videoUrl: null, imageUrl: (path) => thumbnails.get(path) ?? null });
    player.crossOrigin = "anonymous";
    const vtt = exports?.exports.find((e) => e.format === "vtt");
    if (vtt) player.append(el("track", { kind: "subtitles", label: "Who is on screen", srclang: "und", src: vtt.url, default: true }));
    await play(player);
    performance.mark("cameo:video-usable");
    performance.measure("cameo:video", "cameo:video-start", "cameo:video-usable");
    await curationPanel({ api, root: curation, id, results, thumbnails, changed: () => render().catch(show) });
  };

  /** Points the player at the video, and again shortly before each URL expires. */
  async function play(player) {
    clearTimeout(mediaTimer);
    let media;
    try {
      media = await api.get(`/videos/${id}/media`, stopped.signal);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      player.after(el("p", { className: "player-note" }, `No video to play: ${error.message}`));
      return;
    }
    const at = player.currentTime;
    const playing = !player.paused;
    player.src = media.url;
    if (at > 0) {
      player.addEventListener("loadedmetadata", () => {
        player.currentTime = at;
        if (playing) player.play().catch(() => {});
      }, { once: true });
    }
    const refreshIn = new Date(media.expiresAt).getTime() - Date.now() - MEDIA_REFRESH_EARLY_MS;
    if (!stopped.signal.aborted) mediaTimer = window.setTimeout(() => play(player), Math.max(5_000, refreshIn));
  }

  const show = (error) => fill(main, el("p", { className: "error" }, error.message));
  await render().catch(show);
  return () => {
    stopped.abort();
    clearTimeout(mediaTimer);
  };
}

/** Every face crop's presigned URL, by the path the results document names it by. */
async function faceUrls(api, id, signal) {
  const urls = new Map();
  let next = null;
  do {
    const query = new URLSearchParams({ role: "thumbnail", limit: "100" });
    if (next) query.set("next", next);
    const page = await api.get(`/videos/${id}/faces?${query}`, signal);
    for (const face of page.items) urls.set(face.path, face.url);
    next = page.next;
  } while (next);
  return urls;
}

function exportLinks(exports) {
  if (!exports) return el("p", { className: "exports" }, "No exports for this analysis: analyse the video again to have them.");
  const names = { vtt: "WebVTT subtitles", csv: "CSV spreadsheet", edl: "EDL for editors" };
  return el("nav", { className: "exports", "aria-label": "Exports" },
    el("span", {}, "Download: "),
    ...exports.exports.map((e) => el("a", { href: e.url, download: "", "data-format": e.format }, names[e.format] ?? e.format)),
    exports.upToDate ? null : el("span", { className: "note" }, " (the latest corrections are still being written into them)"));
}
