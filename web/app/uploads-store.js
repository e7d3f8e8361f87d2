// Uploads in progress, kept in IndexedDB so that a reload can offer to resume them: what
// identifies the file (name, size, last modified, a hash of its first part) and the ETag
// of each part sent. Never a token.

const DB = "cameo";
const STORE = "uploads";

/**
 * @typedef {{videoId: string, fileName: string, sizeBytes: number, lastModified: number,
 *   firstPartSha256: string, partSizeBytes: number, etags: Record<string, string>,
 *   title: string, startedAt: string}} PendingUpload
 */

/** The database, opened once per page (a part's ETag is saved as each part ends). */
let opened = null;

function open() {
  opened ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "videoId" });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => {
      opened = null;
      reject(request.error);
    };
  });
  return opened;
}

/** Runs `work` on the store in one transaction; resolves to its request's result. */
async function withStore(mode, work) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(STORE, mode);
    const request = work(transaction.objectStore(STORE));
    transaction.oncomplete = () => resolve(request?.result);
    transaction.onerror = () => reject(transaction.error);
  });
}

/** @returns {Promise<PendingUpload[]>} */
export function pendingUploads() {
  return withStore("readonly", (store) => store.getAll());
}

/** @param {PendingUpload} upload */
export function savePending(upload) {
  return withStore("readwrite", (store) => store.put(upload));
}

/** @param {string} videoId */
export function forgetPending(videoId) {
  return withStore("readwrite", (store) => store.delete(videoId));
}

/** SHA-256 (hex) of the first `bytes` of `file`: tells the same file from another of its name and size. */
export async function firstPartSha256(file, bytes) {
  const digest = await crypto.subtle.digest("SHA-256", await file.slice(0, bytes).arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The pending upload `file` is the file of, if any. */
export async function pendingFor(file) {
  const candidates = (await pendingUploads()).filter(
    (p) => p.fileName === file.name && p.sizeBytes === file.size && p.lastModified === file.lastModified,
  );
  for (const candidate of candidates) {
    if ((await firstPartSha256(file, candidate.partSizeBytes)) === candidate.firstPartSha256) return candidate;
  }
  return null;
}
