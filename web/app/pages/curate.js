// Correcting a video: name an unknown face (with the curation worker's suggestions; a
// name someone holds merges the face into them), dismiss it, say a named face is not that
// person or reassign it, split an appearance off an unknown face; and the audit of every
// correction, each undoable. Every write names the version it read (If-Match), so two editors never
// overwrite each other: a refusal reloads the page's view.

import { ApiError } from "../api.js";
import { timeFormat } from "../viewer.js";
import { el, fill, toast, when } from "../dom.js";

/**
 * @param {{api: import("../api.js").Api, root: HTMLElement, id: string, results: any,
 *   thumbnails: Map<string, string>, changed: () => void}} panel
 */
export async function curationPanel({ api, root, id, results, thumbnails, changed }) {
  const log = await api.request("GET", `/videos/${id}/curation`);
  const version = Number(log.etag ?? log.body.version);
  const suggestions = await api.get(`/videos/${id}/suggestions`).catch(() => ({ clusters: [] }));
  const candidates = new Map(suggestions.clusters.map((c) => [c.clusterId, c.candidates]));

  const act = async (body, done) => {
    try {
      await api.request("POST", `/videos/${id}/curation`, { body, ifMatch: version });
      toast(done);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      toast(error.status === 412 ? "Someone else corrected this video meanwhile: here it is as it stands now." : error.message, "error");
    }
    changed();
  };

  const face = (group) => {
    const url = group.thumbnail ? thumbnails.get(group.thumbnail) : null;
    return url ? el("img", { className: "thumbnail", src: url, alt: `${group.name}'s face` }) : el("span", { className: "thumbnail missing" }, "?");
  };

  const unknown = results.unknown.map((group) => {
    const listId = `suggest-${group.id}`;
    const input = el("input", { name: "name", list: listId, required: true, maxLength: 128, placeholder: "Who is this?", "aria-label": `Name ${group.name}` });
    const options = (candidates.get(group.id) ?? []).map((c) => el("option", { value: c.name }));
    const form = el("form", { className: "name-form" }, input, el("datalist", { id: listId }, ...options),
      el("button", { type: "submit" }, "Name"),
      el("button", { type: "button", onclick: () => act({ action: "dismiss", clusterId: group.id }, `${group.name} was dismissed.`) }, "Dismiss"));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const name = input.value.trim();
      if (name) act({ action: "name", clusterId: group.id, name }, `${group.name} is now ${name}.`);
    });
    const hint = options.length ? el("span", { className: "hint" }, `Looks like ${(candidates.get(group.id) ?? []).map((c) => c.name).join(", ")}`) : null;
    return el("li", { className: "cluster", "data-cluster": group.id }, face(group),
      el("span", { className: "name" }, group.name), el("span", { className: "screen-time" }, `${group.screenTimeSeconds.toFixed(1)} s`), hint, form,
      appearances(group));
  });

  const known = results.people.map((group) => {
    const input = el("input", { name: "name", required: true, maxLength: 128, placeholder: "Someone else's name", "aria-label": `Reassign ${group.name} to` });
    const reassign = el("form", { className: "name-form" }, input, el("button", { type: "submit" }, "Reassign"));
    reassign.addEventListener("submit", (event) => {
      event.preventDefault();
      const name = input.value.trim();
      if (name) act({ action: "reassign", clusterId: group.id, name }, `${group.name}'s face is now ${name}.`);
    });
    return el("li", { className: "cluster known", "data-cluster": group.id }, face(group),
      el("span", { className: "name" }, group.name),
      el("button", {
        type: "button",
        onclick: () => act({ action: "reject", clusterId: group.id }, `This face is no longer taken for ${group.name}.`),
      }, "Not this person"),
      reassign);
  });

  /** An unknown face's appearances, each of which can be split off into a face of its own. */
  function appearances(group) {
    if (group.appearances.length < 2) return null;
    const format = timeFormat(results.video.durationSeconds);
    return el("details", { className: "appearances" }, el("summary", {}, `${group.appearances.length} appearances`),
      el("ul", {}, ...group.appearances.map((appearance) => {
        const when = format.range(appearance.startSeconds, appearance.endSeconds);
        return el("li", {}, when, " ", el("button", {
          type: "button",
          "aria-label": `Split ${when} off ${group.name}`,
          onclick: () => act({ action: "split", clusterId: group.id, trackIds: appearance.trackIds }, `${when} is a face of its own now.`),
        }, "Split off"));
      })));
  }

  const audit = [...log.body.actions].reverse().map((action) => el("li", { "data-seq": action.seq },
    el("span", {}, describe(action)), " ",
    el("span", { className: "by" }, `${action.by.displayName}, ${when(action.at)}`), " ",
    action.action !== "undo" && action.undoneBy === undefined
      ? el("button", {
        type: "button",
        onclick: async () => {
          try {
            await api.request("POST", `/videos/${id}/curation/${action.seq}/undo`, { ifMatch: version });
            toast("Undone.");
          } catch (error) {
            toast(error instanceof ApiError ? error.message : String(error), "error");
          }
          changed();
        },
      }, "Undo")
      : null));

  fill(root, 
    el("h2", { id: "curation-title" }, "Faces"),
    el("h3", {}, "Unknown faces"),
    unknown.length ? el("ul", { className: "clusters" }, ...unknown) : el("p", {}, "Everyone here has a name."),
    el("h3", {}, "Named"),
    el("ul", { className: "clusters" }, ...known),
    el("h3", {}, "What was changed"),
    audit.length ? el("ol", { className: "audit", reversed: true }, ...audit) : el("p", {}, "Nothing yet."));
}

/** An action as one line of the audit. */
export function describe(action) {
  const before = action.before.map((g) => g.name).join(", ");
  const after = action.after.map((g) => g.name).join(", ");
  switch (action.action) {
    case "name": return `${before} named ${after}`;
    case "reject": return `${before}: not this person (now ${after})`;
    case "reassign": return `${before} reassigned to ${after}`;
    case "dismiss": return `Dismissed ${before}`;
    case "split": return `Split ${before} into ${after}`;
    case "undo": return `Undid action ${action.undoes}`;
    default: return `${action.action}: ${before} → ${after}`;
  }
}
