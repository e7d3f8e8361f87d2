// The library: every video, newest first, with its state and progress, polled with
// backoff while any is still moving (HTTP APIs push nothing); filters by state and day,
// and by actor, genre or director (finished videos, from the table's indexes); paging;
// a failed video says why; analyse again, delete.

import { ApiError } from "../api.js";
import { FINAL_STATES, STATE_LABELS, el, fill, size, toast, when } from "../dom.js";

const POLL_FIRST_MS = 2_000;
const POLL_MAX_MS = 30_000;

/** @param {{api: import("../api.js").Api, main: HTMLElement, query: URLSearchParams}} page */
export async function libraryPage({ api, main, query }) {
  const filters = {
    state: query.get("state") ?? "",
    day: query.get("day") ?? "",
    actor: query.get("actor") ?? "",
    genre: query.get("genre") ?? "",
    director: query.get("director") ?? "",
  };
  const stopped = new AbortController();
  let next = query.get("next");
  let delay = POLL_FIRST_MS;
  let timer = 0;
  let last = "";

  const list = el("div", { className: "library-list" });
  const more = el("nav", { className: "pager", "aria-label": "Pages of the library" });
  const form = filterForm(filters);
  fill(main, el("h1", {}, "Library"), form, list, more);

  async function refresh() {
    clearTimeout(timer);
    let items;
    let nextToken;
    try {
      ({ items, next: nextToken } = await load(api, filters, next, stopped.signal));
    } catch (error) {
      if (stopped.signal.aborted) return;
      fill(list, el("p", { className: "error" }, error.message));
      return;
    }
    const seen = JSON.stringify(items);
    if (seen !== last) {
      delay = POLL_FIRST_MS;
      last = seen;
      fill(list, items.length ? table(items, api, refresh) : el("p", { className: "empty" }, "No video here yet."));
    } else {
      delay = Math.min(POLL_MAX_MS, delay * 1.5);
    }
    fill(more, 
      next ? el("a", { href: pageLink(filters, null) }, "First page") : null,
      nextToken ? el("a", { href: pageLink(filters, nextToken), rel: "next" }, "Next page") : null,
    );
    const moving = items.some((v) => v.state && !FINAL_STATES.has(v.state));
    if (moving && !stopped.signal.aborted) timer = window.setTimeout(refresh, delay);
  }
  await refresh();
  return () => {
    stopped.abort();
    clearTimeout(timer);
  };
}

/** The videos the filters ask for: the library by state and day, or finished movies by actor, genre or director. */
async function load(api, filters, next, signal) {
  const params = new URLSearchParams({ limit: "25" });
  if (next) params.set("next", next);
  if (filters.actor) return api.get(`/actors/${encodeURIComponent(filters.actor)}/videos?${params}`, signal);
  if (filters.genre || filters.director) {
    if (filters.genre) params.set("genre", filters.genre);
    else params.set("director", filters.director);
    return api.get(`/videos?${params}`, signal);
  }
  if (filters.state) params.set("state", filters.state);
  if (filters.day) params.set("day", filters.day);
  return api.get(`/library?${params}`, signal);
}

function pageLink(filters, next) {
  const params = new URLSearchParams(Object.entries(filters).filter(([, v]) => v));
  if (next) params.set("next", next);
  return `#/library?${params}`;
}

function filterForm(filters) {
  const field = (name, label, input) => el("label", {}, label, input);
  const text = (name, type = "text") => el("input", { name, type, value: filters[name] });
  const state = el("select", { name: "state" },
    el("option", { value: "" }, "Any state"),
    ...Object.entries(STATE_LABELS).map(([value, label]) => el("option", { value, selected: filters.state === value }, label)));
  const form = el("form", { className: "filters", role: "search" },
    field("state", "State", state),
    field("day", "Uploaded on", text("day", "date")),
    field("actor", "Actor", text("actor")),
    field("genre", "Genre", text("genre")),
    field("director", "Director", text("director")),
    el("button", { type: "submit" }, "Filter"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const chosen = Object.fromEntries([...data.entries()].map(([k, v]) => [k, String(v).trim()]));
    location.hash = pageLink(chosen, null);
  });
  return form;
}

function table(items, api, refresh) {
  const rows = items.map((video) => row(video, api, refresh));
  return el("table", { className: "videos" },
    el("thead", {}, el("tr", {}, ...["Video", "State", "Uploaded", "Size", ""].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, ...rows));
}

/** One video: an upload (`GET /library`), or a finished movie (`/actors/...`, `/videos?...`). */
function row(video, api, refresh) {
  const id = video.videoId ?? video.movieId;
  const title = video.movie?.title ?? video.title ?? video.fileName ?? id;
  const state = video.state ?? "succeeded";
  const processing = video.processing;
  const progress = state === "processing" && processing?.shardsTotal
    ? el("progress", { max: processing.shardsTotal, value: processing.shardsSucceeded, "aria-label": `${title}: shards analysed` })
    : null;
  const reason = state === "failed" && processing?.reason ? el("p", { className: "reason" }, processing.reason) : null;
  const open = state === "succeeded" || video.summary ? el("a", { href: `#/videos/${id}` }, title) : el("span", {}, title);
  const actions = el("td", { className: "actions" });
  if (video.videoId && ["failed", "succeeded"].includes(state)) {
    actions.append(el("button", {
      type: "button",
      onclick: () => act(() => api.request("POST", `/videos/${id}/analyse`), `${title} will be analysed again.`, refresh),
    }, "Analyse again"));
  }
  actions.append(el("button", {
    type: "button",
    className: "danger",
    onclick: () => {
      if (!confirm(`Delete ${title} and everything cameo made of it? This cannot be undone.`)) return;
      act(() => api.request("DELETE", `/videos/${id}`), `${title} was deleted.`, refresh);
    },
  }, "Delete"));
  return el("tr", { "data-video": id, "data-state": state },
    el("th", { scope: "row" }, open, reason),
    el("td", {}, el("span", { className: `state ${state}` }, STATE_LABELS[state] ?? state), progress),
    el("td", {}, video.createdAt ? when(video.createdAt) : video.processedAt ? when(video.processedAt) : ""),
    el("td", {}, video.sizeBytes ? size(video.sizeBytes) : ""),
    actions);
}

async function act(call, done, refresh) {
  try {
    await call();
    toast(done);
  } catch (error) {
    toast(error instanceof ApiError ? error.message : String(error), "error");
  }
  await refresh();
}
