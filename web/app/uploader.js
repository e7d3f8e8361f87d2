// One video's upload, straight to S3 through the URLs the API mints: one PUT up to the
// API's single-PUT limit, else the parts of a multipart upload, a bounded number at once,
// each retried with backoff (a URL that expired meanwhile is minted again), then
// completed. Progress, speed and time left are events; a reload resumes from the parts S3
// already holds (GET /videos/{id}/upload); cancel aborts.

import { ApiError } from "./api.js";
import { sleep } from "./dom.js";
import { firstPartSha256, forgetPending, savePending } from "./uploads-store.js";

/** What a browser may not name the type of (.mkv, .mxf, .ts on some systems), by extension. */
export const VIDEO_TYPES = {
  mp4: "video/mp4", m4v: "video/x-m4v", mov: "video/quicktime", mkv: "video/x-matroska", webm: "video/webm",
  avi: "video/x-msvideo", mpg: "video/mpeg", mpeg: "video/mpeg", ts: "video/mp2t", m2ts: "video/mp2t",
  mts: "video/mp2t", wmv: "video/x-ms-wmv", flv: "video/x-flv", "3gp": "video/3gpp", mxf: "video/mxf", ogv: "video/ogg",
};

/** The type to declare for `file`: its own when it is a video type, else its extension's. */
export function contentType(file) {
  if (file.type.startsWith("video/")) return file.type;
  const extension = file.name.includes(".") ? file.name.split(".").pop().toLowerCase() : "";
  // Unknown: the API refuses it, in its own words.
  return VIDEO_TYPES[extension] ?? (file.type || "application/octet-stream");
}

/** Parts sent at once. */
export const PARALLEL_PARTS = 4;
/** Tries of one part before the upload fails. */
const PART_TRIES = 5;
/** Speed is measured over this window. */
const SPEED_WINDOW_MS = 5_000;

/** Headers a browser sets itself and refuses to be given. */
const BROWSER_HEADERS = new Set(["content-length", "host"]);

/**
 * PUTs `body` to a presigned URL, reporting bytes sent; resolves to the answer's ETag.
 * @returns {Promise<string>}
 */
export function put(url, body, headers, onProgress, signal) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    for (const [name, value] of Object.entries(headers ?? {})) {
      if (!BROWSER_HEADERS.has(name.toLowerCase())) xhr.setRequestHeader(name, value);
    }
    xhr.upload.onprogress = (event) => onProgress(event.loaded);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve(xhr.getResponseHeader("etag") ?? "");
      else reject(Object.assign(new Error(`S3 answered ${xhr.status}`), { status: xhr.status }));
    };
    xhr.onerror = () => reject(Object.assign(new Error("the connection to S3 failed"), { status: 0 }));
    xhr.onabort = () => reject(Object.assign(new Error("cancelled"), { status: -1 }));
    signal.addEventListener("abort", () => xhr.abort());
    xhr.send(body);
  });
}

/**
 * @typedef {{partNumber: number, sizeBytes: number, url: string}} PartUrl
 * @typedef {{phase: string, sentBytes: number, totalBytes: number, bytesPerSecond: number,
 *   secondsLeft: number | null, error: string | null}} Progress
 */

export class Upload extends EventTarget {
  /**
   * @param {import("./api.js").Api} api
   * @param {File} file
   */
  constructor(api, file) {
    super();
    this.api = api;
    this.file = file;
    this.videoId = null;
    this.controller = new AbortController();
    /** @type {Progress} */
    this.progress = { phase: "starting", sentBytes: 0, totalBytes: file.size, bytesPerSecond: 0, secondsLeft: null, error: null };
    /** Bytes each part in flight has sent. */
    this.inFlight = new Map();
    this.doneBytes = 0;
    this.samples = /** @type {[number, number][]} */ ([]);
  }

  /** Starts a new upload of the file, described as `movie`. */
  async start(movie) {
    return this.run(async () => {
      const minted = (await this.api.request("POST", "/videos", {
        body: { fileName: this.file.name, contentType: contentType(this.file), sizeBytes: this.file.size, movie },
      })).body;
      this.videoId = minted.videoId;
      this.emit({ phase: "uploading" });
      if (minted.upload.method === "PUT") {
        await put(minted.upload.url, this.file, minted.upload.headers, (sent) => this.sent(0, sent), this.controller.signal);
        this.partDone(0, this.file.size);
        return;
      }
      const pending = {
        videoId: minted.videoId, fileName: this.file.name, sizeBytes: this.file.size, lastModified: this.file.lastModified,
        firstPartSha256: await firstPartSha256(this.file, minted.upload.partSizeBytes), partSizeBytes: minted.upload.partSizeBytes,
        etags: {}, title: movie?.title ?? this.file.name, startedAt: new Date().toISOString(),
      };
      await savePending(pending);
      await this.sendParts(pending, minted.upload.parts);
    });
  }

  /** Resumes the pending upload `pending` (the user picked its file again): only the parts S3 lacks. */
  async resume(pending) {
    this.videoId = pending.videoId;
    return this.run(async () => {
      const state = (await this.api.request("GET", `/videos/${pending.videoId}/upload`)).body;
      for (const held of state.uploaded) {
        // S3's listing is the truth; a stand-in that lists no ETag leaves ours.
        if (held.etag) pending.etags[held.partNumber] = held.etag;
        if (!pending.etags[held.partNumber]) {
          throw new Error(`S3 holds part ${held.partNumber} but says no ETag for it, and this browser never saw it: cancel, and upload the video again`);
        }
        this.doneBytes += held.sizeBytes;
      }
      const missing = state.parts.filter((/** @type {PartUrl} */ p) => !pending.etags[p.partNumber]);
      this.emit({ phase: "uploading" });
      await this.sendParts(pending, missing);
    });
  }

  /** Aborts the upload: the parts in flight stop, and S3 keeps nothing of it. */
  async cancel() {
    this.controller.abort();
    if (!this.videoId) return;
    await forgetPending(this.videoId);
    if (this.progress.phase !== "done") {
      await this.api.request("DELETE", `/videos/${this.videoId}/upload`).catch(() => {});
      this.emit({ phase: "cancelled" });
    }
  }

  async run(work) {
    try {
      await work();
      this.emit({ phase: "done", sentBytes: this.file.size, secondsLeft: 0 });
    } catch (error) {
      if (this.controller.signal.aborted) return this.emit({ phase: "cancelled" });
      const message = error instanceof ApiError ? error.message : `The upload failed: ${error.message}`;
      this.emit({ phase: "failed", error: message });
      throw error;
    }
  }

  /** Sends `parts` a few at once, then completes the upload. */
  async sendParts(pending, parts) {
    const queue = [...parts];
    const urls = new Map(parts.map((p) => [p.partNumber, p]));
    const worker = async () => {
      for (let part = queue.shift(); part; part = queue.shift()) {
        pending.etags[part.partNumber] = await this.sendPart(part.partNumber, pending, urls);
        this.partDone(part.partNumber, part.sizeBytes);
        await savePending(pending);
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_PARTS, queue.length) }, worker));
    this.emit({ phase: "completing" });
    const total = Math.ceil(this.file.size / pending.partSizeBytes);
    const completed = Array.from({ length: total }, (_, i) => ({ partNumber: i + 1, etag: pending.etags[i + 1] }));
    await this.api.request("POST", `/videos/${pending.videoId}/complete`, { body: { parts: completed } });
    await forgetPending(pending.videoId);
  }

  /** One part, tried again with backoff; a URL refused as expired is minted again. */
  async sendPart(partNumber, pending, urls) {
    const start = (partNumber - 1) * pending.partSizeBytes;
    const blob = this.file.slice(start, Math.min(start + pending.partSizeBytes, this.file.size));
    for (let attempt = 1; ; attempt++) {
      try {
        return await put(urls.get(partNumber).url, blob, {}, (sent) => this.sent(partNumber, sent), this.controller.signal);
      } catch (error) {
        this.sent(partNumber, 0);
        if (error.status === -1 || attempt >= PART_TRIES) throw error;
        await sleep(1000 * 2 ** (attempt - 1), this.controller.signal);
        if (error.status === 403) {
          const fresh = (await this.api.request("GET", `/videos/${pending.videoId}/upload`)).body;
          for (const part of fresh.parts) urls.set(part.partNumber, part);
        }
      }
    }
  }

  sent(partNumber, bytes) {
    this.inFlight.set(partNumber, bytes);
    this.emit({});
  }

  partDone(partNumber, bytes) {
    this.inFlight.delete(partNumber);
    this.doneBytes += bytes;
    this.emit({});
  }

  /** Updates the progress with `change` and tells the listeners. */
  emit(change) {
    const now = performance.now();
    let sent = this.doneBytes;
    for (const bytes of this.inFlight.values()) sent += bytes;
    this.samples.push([now, sent]);
    while (this.samples.length > 2 && now - this.samples[0][0] > SPEED_WINDOW_MS) this.samples.shift();
    const [since, then] = this.samples[0];
    const speed = now > since ? ((sent - then) * 1000) / (now - since) : 0;
    this.progress = {
      ...this.progress,
      sentBytes: Math.min(sent, this.file.size),
      bytesPerSecond: speed,
      secondsLeft: speed > 0 ? (this.file.size - sent) / speed : null,
      ...change,
    };
    this.dispatchEvent(new Event("progress"));
  }
}
