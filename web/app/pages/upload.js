// Upload: drop or pick one or more videos, describe the movie, and watch each go up with
// its progress, speed and time left. After a reload the page lists the uploads left
// unfinished: picking the same file again (a browser cannot reopen it) resumes it,
// sending only the parts S3 lacks.

import { duration, el, fill, size, toast, when } from "../dom.js";
import { Upload } from "../uploader.js";
import { forgetPending, pendingFor, pendingUploads } from "../uploads-store.js";

/** @param {{api: import("../api.js").Api, main: HTMLElement}} page */
export async function uploadPage({ api, main }) {
  const active = new Set();
  const running = el("ul", { className: "uploads", "aria-label": "Uploads" });
  const picker = el("input", { type: "file", accept: "video/*,.mkv,.mxf,.ts,.m2ts,.mts", multiple: true, id: "files" });
  const movie = movieFields();
  const drop = el("div", { className: "drop", tabIndex: 0 },
    el("p", {}, "Drop videos here, or "), el("label", { htmlFor: "files", className: "button" }, "choose files"), picker);
  const resumable = el("section", { className: "resumable", "aria-labelledby": "resume-title" });
  fill(main, el("h1", {}, "Upload"), movie.fieldset, drop, resumable, running);

  const begin = async (files) => {
    for (const file of files) {
      const pending = await pendingFor(file);
      const upload = new Upload(api, file);
      active.add(upload);
      running.append(progressRow(upload, pending ? "Resuming" : "Uploading"));
      const done = pending ? upload.resume(pending) : upload.start(movie.values());
      done.catch(() => {}).finally(() => {
        active.delete(upload);
        showResumable();
      });
    }
  };
  picker.addEventListener("change", () => {
    begin([...(picker.files ?? [])]);
    picker.value = "";
  });
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    begin([...(event.dataTransfer?.files ?? [])]);
  });
  drop.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") picker.click();
  });

  async function showResumable() {
    const inFlight = new Set([...active].map((u) => u.videoId));
    const left = (await pendingUploads()).filter((p) => !inFlight.has(p.videoId));
    if (!left.length) return fill(resumable);
    fill(resumable, 
      el("h2", { id: "resume-title" }, "Unfinished uploads"),
      el("p", {}, "Choose the same file again to resume it: only what is missing is sent."),
      el("ul", {}, ...left.map((p) => el("li", { "data-video": p.videoId },
        el("strong", {}, p.title), ` (${p.fileName}, ${size(p.sizeBytes)}, started ${when(p.startedAt)}) `,
        el("button", {
          type: "button",
          onclick: async () => {
            await api.request("DELETE", `/videos/${p.videoId}/upload`).catch(() => {});
            await forgetPending(p.videoId);
            showResumable();
          },
        }, "Discard")))));
  }
  await showResumable();
  // Leaving the page does not stop the uploads; closing the tab would.
  const warn = (event) => {
    if (active.size) event.preventDefault();
  };
  window.addEventListener("beforeunload", warn);
  return () => window.removeEventListener("beforeunload", warn);
}

function movieFields() {
  /** @returns {[HTMLInputElement, HTMLLabelElement]} */
  const input = (name, label, attributes = {}) => {
    const field = el("input", { name, id: `movie-${name}`, ...attributes });
    return [field, el("label", { htmlFor: `movie-${name}` }, label, field)];
  };
  const [title, titleLabel] = input("title", "Title", { maxLength: 256 });
  const [genre, genreLabel] = input("genre", "Genre", { maxLength: 64 });
  const [director, directorLabel] = input("director", "Director", { maxLength: 128 });
  const [year, yearLabel] = input("year", "Year", { type: "number", min: 1870, max: 2100 });
  const fieldset = el("fieldset", { className: "movie" }, el("legend", {}, "The movie (for every file chosen next)"),
    titleLabel, genreLabel, directorLabel, yearLabel);
  const values = () => {
    const movie = {};
    if (title.value.trim()) movie.title = title.value.trim();
    if (genre.value.trim()) movie.genre = genre.value.trim();
    if (director.value.trim()) movie.director = director.value.trim();
    if (year.value) movie.year = Number(year.value);
    return movie;
  };
  return { fieldset, values };
}

/** One upload's row: name, bar, numbers, cancel; updated as it goes. */
function progressRow(upload, verb) {
  const bar = el("progress", { max: upload.file.size, value: 0, "aria-label": `${upload.file.name} uploaded` });
  const numbers = el("span", { className: "numbers" });
  const cancel = el("button", { type: "button", onclick: () => upload.cancel() }, "Cancel");
  const row = el("li", { className: "upload", "data-phase": "starting" },
    el("span", { className: "name" }, `${verb} ${upload.file.name}`), bar, numbers, cancel);
  upload.addEventListener("progress", () => {
    const p = upload.progress;
    row.dataset.phase = p.phase;
    if (upload.videoId) row.dataset.video = upload.videoId;
    bar.value = p.sentBytes;
    const percent = Math.floor((100 * p.sentBytes) / Math.max(1, p.totalBytes));
    numbers.textContent = {
      starting: "Starting…",
      uploading: `${percent}%, ${size(p.bytesPerSecond)}/s${p.secondsLeft === null ? "" : `, ${duration(p.secondsLeft)} left`}`,
      completing: "Finishing…",
      done: "Uploaded: it is analysed next (see the library)",
      cancelled: "Cancelled",
      failed: p.error ?? "Failed",
    }[p.phase] ?? "";
    cancel.hidden = ["done", "cancelled", "failed"].includes(p.phase);
    if (p.phase === "failed") toast(p.error ?? "The upload failed", "error");
    if (p.phase === "done") toast(`${upload.file.name} is uploaded.`);
  });
  return row;
}
