// The API as the app calls it: the access token on every request, JSON in and out, the
// API's refusals as errors worded as the API words them, and 429s waited out (for
// `Retry-After` when the answer has one; API Gateway's own throttling has none, so
// otherwise with exponential backoff and jitter).

import { sleep } from "./dom.js";

/** Tries of a throttled request. */
const THROTTLED_TRIES = 6;

export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** How long to wait after the `attempt`th 429 (0-based), in ms. */
export function backoff(attempt, retryAfter) {
  const seconds = Number(retryAfter);
  if (retryAfter && Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const ceiling = Math.min(30_000, 1000 * 2 ** attempt);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

export class Api {
  /** @param {import("./auth.js").Session} session */
  constructor(session) {
    this.session = session;
  }

  /**
   * A request; resolves to `{body, etag, status}`.
   * @param {string} method
   * @param {string} path
   * @param {{body?: any, ifMatch?: string | number | null, signal?: AbortSignal}} [options]
   */
  async request(method, path, { body, ifMatch, signal } = {}) {
    for (let attempt = 0; ; attempt++) {
      const headers = /** @type {Record<string, string>} */ ({});
      const token = await this.session.token();
      if (token) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers["content-type"] = "application/json";
      if (ifMatch !== undefined && ifMatch !== null) headers["if-match"] = `"${String(ifMatch).replace(/"/g, "")}"`;
      const answer = await fetch(path, { method, headers, signal, body: body === undefined ? undefined : JSON.stringify(body) });
      if (answer.status === 429 && attempt + 1 < THROTTLED_TRIES) {
        await sleep(backoff(attempt, answer.headers.get("retry-after")), signal);
        continue;
      }
      const text = await answer.text();
      let json;
      try {
        json = text ? JSON.parse(text) : null;
      } catch {
        json = null;
      }
      if (!answer.ok) {
        throw new ApiError(answer.status, json?.error ?? "error", json?.message ?? `${method} ${path}: ${answer.status} ${answer.statusText}`);
      }
      return { body: json, etag: answer.headers.get("etag")?.replace(/"/g, "") ?? null, status: answer.status };
    }
  }

  /** @param {string} path @param {AbortSignal} [signal] */
  async get(path, signal) {
    return (await this.request("GET", path, { signal })).body;
  }
}
