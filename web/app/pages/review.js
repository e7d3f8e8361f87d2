// The review queue: unknown faces across every video, grouped by likeness (one stranger's
// faces together), the most seen first; name or dismiss a whole group at once.

import { ApiError } from "../api.js";
import { duration, el, fill, toast } from "../dom.js";

/** Thumbnails shown per group. */
const FACES_SHOWN = 4;

/** @param {{api: import("../api.js").Api, main: HTMLElement, query: URLSearchParams}} page */
export async function reviewPage({ api, main, query }) {
  const params = new URLSearchParams({ limit: "10" });
  if (query.get("next")) params.set("next", query.get("next") ?? "");
  let page;
  try {
    page = await api.get(`/review?${params}`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) {
      fill(main, el("h1", {}, "Review"), el("p", {}, "Reviewing faces needs the cameo/curate scope."));
      return;
    }
    throw error;
  }
  const groups = await Promise.all(page.items.map((group, index) => groupItem(api, group, index)));
  fill(main, el("h1", {}, "Review"),
    el("p", { className: "meta" }, page.computedAt
      ? `As of ${new Date(page.computedAt).toLocaleString()} (the curation worker looks again when corrections pause).`
      : "The curation worker has not looked at the unknown faces yet."),
    groups.length ? el("ol", { className: "review" }, ...groups) : el("p", { className: "empty" }, "No unknown face to review."),
    page.next ? el("a", { href: `#/review?next=${encodeURIComponent(page.next)}`, rel: "next" }, "More groups") : null);
}

async function groupItem(api, group, index) {
  const faces = await Promise.all(group.clusters.slice(0, FACES_SHOWN).map(async (cluster) => {
    const page = await api.get(`/videos/${cluster.movieId}/faces?role=thumbnail&group=${encodeURIComponent(cluster.clusterId)}&limit=1`).catch(() => null);
    const url = page?.items[0]?.url;
    return url ? el("img", { className: "thumbnail", src: url, alt: `Unknown face in ${cluster.movieId}` }) : el("span", { className: "thumbnail missing" }, "?");
  }));
  const listId = `review-${index}`;
  const input = el("input", { name: "name", list: listId, required: true, maxLength: 128, "aria-label": `Name group ${index + 1}` });
  const form = el("form", { className: "name-form" }, input,
    el("datalist", { id: listId }, ...group.candidates.map((c) => el("option", { value: c.name }))),
    el("button", { type: "submit" }, "Name all"),
    el("button", { type: "button", onclick: () => each(api, group, { action: "dismiss" }, "dismissed") }, "Dismiss all"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    each(api, group, { action: "name", name: input.value.trim() }, `named ${input.value.trim()}`);
  });
  const videos = new Set(group.clusters.map((c) => c.movieId)).size;
  return el("li", { className: "group" }, el("div", { className: "faces" }, ...faces),
    el("p", {}, `${group.clusters.length} face${group.clusters.length === 1 ? "" : "s"} in ${videos} video${videos === 1 ? "" : "s"}, ${duration(group.screenTimeSeconds)} on screen`),
    group.candidates.length ? el("p", { className: "hint" }, `Looks like ${group.candidates.map((c) => c.name).join(", ")}`) : null,
    form);
}

/** One correction per cluster of the group, each on its video's current version. */
async function each(api, group, change, said) {
  let done = 0;
  for (const cluster of group.clusters) {
    try {
      const { etag } = await api.request("GET", `/videos/${cluster.movieId}/curation`);
      await api.request("POST", `/videos/${cluster.movieId}/curation`, { body: { ...change, clusterId: cluster.clusterId }, ifMatch: etag });
      done += 1;
    } catch (error) {
      toast(error instanceof ApiError ? `${cluster.movieId}: ${error.message}` : String(error), "error");
    }
  }
  toast(`${done} of ${group.clusters.length} faces ${said}.`);
  dispatchEvent(new HashChangeEvent("hashchange"));
}
