// People: the gallery's people with a thumbnail, their photos and the videos they are in;
// create, rename, merge and delete them; add photos (PUT straight to S3, the check's
// verdict shown when it arrives); the faces that came close to them and what was
// corrected about them.

import { ApiError } from "../api.js";
import { el, fill, sleep, toast, when } from "../dom.js";
import { put } from "../uploader.js";

/** Looks for a new photo's verdict this often, this many times. */
const VERDICT_POLL_MS = 2_000;
const VERDICT_POLLS = 30;

/** @param {{api: import("../api.js").Api, main: HTMLElement, query: URLSearchParams}} page */
export async function peoplePage({ api, main, query }) {
  const params = new URLSearchParams({ limit: "50" });
  if (query.get("next")) params.set("next", query.get("next") ?? "");
  const page = await api.get(`/people?${params}`);
  const name = el("input", { name: "name", required: true, maxLength: 128, id: "new-person" });
  const create = el("form", { className: "inline" }, el("label", { htmlFor: "new-person" }, "New person "), name,
    el("button", { type: "submit" }, "Add"));
  create.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const created = (await api.request("POST", "/people", { body: { name: name.value.trim() } })).body;
      location.hash = `#/people/${created.personId}`;
    } catch (error) {
      toast(error instanceof ApiError ? error.message : String(error), "error");
    }
  });
  const cards = page.items.map((person) => el("li", { className: "person-card", "data-person": person.personId },
    person.thumbnail ? el("img", { className: "thumbnail", src: person.thumbnail, alt: `${person.name}'s photo` }) : el("span", { className: "thumbnail missing" }, "?"),
    el("a", { href: `#/people/${person.personId}` }, person.name),
    el("span", { className: "counts" }, `${person.photos.usable} usable photo${person.photos.usable === 1 ? "" : "s"}${person.photos.pending ? `, ${person.photos.pending} being checked` : ""}, in ${person.videos} video${person.videos === 1 ? "" : "s"}`)));
  fill(main, el("h1", {}, "People"), create,
    cards.length ? el("ul", { className: "people-grid" }, ...cards) : el("p", { className: "empty" }, "Nobody yet."),
    page.next ? el("a", { href: `#/people?next=${encodeURIComponent(page.next)}`, rel: "next" }, "More people") : null);
}

/** @param {{api: import("../api.js").Api, main: HTMLElement, params: string[]}} page */
export async function personPage({ api, main, params }) {
  const [id] = params;
  const stopped = new AbortController();
  const render = async () => {
    const { body: person, etag } = await api.request("GET", `/people/${id}`);
    const version = Number(etag ?? person.version);
    const [nearMisses, audit] = await Promise.all([
      api.get(`/people/${id}/suggestions`).catch(() => null),
      api.get(`/people/${id}/curation`).catch(() => null),
    ]);
    const write = async (method, path, body, done, after) => {
      try {
        const answer = await api.request(method, path, { body, ifMatch: version });
        toast(done);
        if (after) await after(answer);
      } catch (error) {
        toast(error instanceof ApiError ? error.message : String(error), "error");
      }
      if (!stopped.signal.aborted) render();
    };

    const rename = el("input", { name: "name", value: person.name, required: true, maxLength: 128, id: "rename" });
    const renameForm = el("form", { className: "inline" }, el("label", { htmlFor: "rename" }, "Name "), rename, el("button", { type: "submit" }, "Rename"));
    renameForm.addEventListener("submit", (event) => {
      event.preventDefault();
      write("PATCH", `/people/${id}`, { name: rename.value.trim() }, "Renamed.", (answer) => {
        if (answer.body.personId !== id) location.hash = `#/people/${answer.body.personId}`;
      });
    });
    const other = el("input", { name: "personId", required: true, pattern: "[0-9a-f]{32}", id: "merge-id", placeholder: "their person id" });
    const mergeForm = el("form", { className: "inline" }, el("label", { htmlFor: "merge-id" }, "Merge in "), other, el("button", { type: "submit" }, "Merge"));
    mergeForm.addEventListener("submit", (event) => {
      event.preventDefault();
      write("POST", `/people/${id}/merge`, { personId: other.value.trim() }, "Merged.");
    });
    const remove = el("button", {
      type: "button",
      className: "danger",
      onclick: () => {
        if (!confirm(`Delete ${person.name}, their photos and the faces rejected as theirs? This cannot be undone.`)) return;
        write("DELETE", `/people/${id}`, undefined, `${person.name} was deleted.`, () => (location.hash = "#/people"));
      },
    }, "Delete person");

    const photoInput = el("input", { type: "file", accept: "image/jpeg,image/png", id: "photo", multiple: true });
    photoInput.addEventListener("change", async () => {
      for (const file of [...(photoInput.files ?? [])]) await addPhoto(api, id, file, stopped.signal);
      render();
    });
    const photos = person.photos.map((photo) => el("li", { className: `photo ${photo.status}`, "data-photo": photo.photoId },
      photo.url ? el("img", { src: photo.url, alt: `A photo of ${person.name}` }) : null,
      el("span", { className: "status" }, photo.status === "pending" ? "being checked" : photo.status),
      photo.reason ? el("span", { className: "reason" }, photo.reason) : null,
      el("button", {
        type: "button",
        onclick: () => write("DELETE", `/people/${id}/photos/${photo.photoId}`, undefined, "The photo was deleted."),
      }, "Delete")));
    const videos = person.videos.items.map((v) => el("li", {}, el("a", { href: `#/videos/${v.videoId ?? v.movieId}` }, v.title),
      ` ${v.screenTimeSeconds.toFixed(1)} s`));
    const misses = (nearMisses?.items ?? []).map((m) => el("li", {},
      el("a", { href: `#/videos/${m.movieId}` }, `An unknown face in ${m.movieId}`), ` (${Math.round(m.similarity * 100)}% alike)`));
    const changes = (audit?.actions ?? []).map((a) => el("li", {}, `${a.action} in ${a.movieId} by ${a.by.displayName}, ${when(a.at)}`));

    fill(main, el("h1", {}, person.name), el("p", { className: "meta" }, `Person ${id}, added by ${person.createdBy} ${when(person.createdAt)}`),
      renameForm, mergeForm, remove,
      el("h2", {}, "Photos"), el("label", { htmlFor: "photo" }, "Add photos (JPEG or PNG, one face each)", photoInput),
      photos.length ? el("ul", { className: "photos" }, ...photos) : el("p", {}, "No photo yet: cameo cannot recognise them until one is usable."),
      el("h2", {}, "Videos"), videos.length ? el("ul", {}, ...videos) : el("p", {}, "In no video yet."),
      nearMisses ? el("h2", {}, "Faces that came close") : null,
      nearMisses ? (misses.length ? el("ul", {}, ...misses) : el("p", {}, "None came close enough to suggest.")) : null,
      el("h2", {}, "What was corrected about them"), changes.length ? el("ul", {}, ...changes) : el("p", {}, "Nothing yet."));
  };
  await render();
  return () => stopped.abort();
}

/** Adds one photo: a URL from the API, the PUT, then the gallery checker's verdict. */
async function addPhoto(api, id, file, signal) {
  try {
    const { etag } = await api.request("GET", `/people/${id}`);
    const minted = (await api.request("POST", `/people/${id}/photos`, {
      body: { contentType: file.type, sizeBytes: file.size },
      ifMatch: etag,
    })).body;
    await put(minted.upload.url, file, minted.upload.headers, () => {}, signal);
    toast(`${file.name} is uploaded; it is being checked.`);
    for (let i = 0; i < VERDICT_POLLS && !signal.aborted; i++) {
      await sleep(VERDICT_POLL_MS, signal);
      const person = await api.get(`/people/${id}`);
      const photo = person.photos.find((p) => p.photoId === minted.photoId);
      if (photo && photo.status !== "pending") {
        toast(photo.status === "usable" ? `${file.name} is usable.` : `${file.name} was rejected: ${photo.reason ?? ""}`, photo.status === "usable" ? "info" : "error");
        return;
      }
    }
  } catch (error) {
    toast(error instanceof ApiError ? error.message : `The photo failed: ${error.message}`, "error");
  }
}
