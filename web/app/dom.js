// Building the page: elements from plain data, text only ever set as text (names come
// from users), and the small pieces every page shares.

/**
 * An element: `attributes` are set as properties where the element has one (`className`,
 * `type`, `value`, `disabled`, `hidden`...), `on*` functions become listeners, `data-*`
 * and the rest attributes; children are nodes or text.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, any>} [attributes]
 * @param {...(Node | string | number | null | undefined | false)} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else if (settable(node, name)) /** @type {any} */ (node)[name] = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === "object" ? child : String(child));
  }
  return node;
}

/** Replaces `node`'s children with `children`, leaving out null, undefined and false. */
export function fill(node, ...children) {
  node.replaceChildren(...children.filter((child) => child !== null && child !== undefined && child !== false));
}

/** Whether `name` is a property of `node` that can be set (`list`, for one, cannot). */
function settable(node, name) {
  for (let proto = Object.getPrototypeOf(node); proto; proto = Object.getPrototypeOf(proto)) {
    const descriptor = Object.getOwnPropertyDescriptor(proto, name);
    if (descriptor) return Boolean(descriptor.set || descriptor.writable);
  }
  return false;
}

/** A short message that announces itself to screen readers, and goes after a while. */
export function toast(message, kind = "info") {
  const toasts = document.getElementById("toasts");
  if (!toasts) return;
  const note = el("p", { className: `toast ${kind}` }, message);
  toasts.append(note);
  setTimeout(() => note.remove(), kind === "error" ? 10_000 : 5_000);
}

/** A video's state as people read it. */
export const STATE_LABELS = {
  awaiting_upload: "Uploading",
  expired: "Upload expired",
  aborted: "Cancelled",
  uploaded: "Uploaded",
  queued: "Queued",
  processing: "Analysing",
  failed: "Failed",
  succeeded: "Done",
};

/** States a video stays in until someone acts. */
export const FINAL_STATES = new Set(["expired", "aborted", "failed", "succeeded"]);

/** `bytes` as people read sizes. */
export function size(bytes) {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toFixed(unit === 0 || value >= 100 ? 0 : 1)} ${units[unit]}`;
}

/** Seconds as "1 h 2 min", "3 min 4 s" or "5 s". */
export function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  if (s >= 60) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${s} s`;
}

/** A time as this browser's locale writes it. */
export function when(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/** Waits `ms`, or less when `signal` aborts. */
export function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
}
