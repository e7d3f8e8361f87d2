// What the web app's browser specs share: watching a page for errors, screenshots, the
// accessibility check and reading the API. Not a spec itself (Playwright runs *.spec.js).
import { expect } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import path from "node:path";

/** Uncaught errors and Content-Security-Policy violations, which must stay none. */
export function watch(page) {
  const problems = [];
  page.on("pageerror", (error) => problems.push(error.message));
  page.on("console", (message) => {
    if (/Content Security Policy|Refused to/.test(message.text())) problems.push(message.text());
  });
  // Leaving a page with an upload going asks first; the user says yes.
  page.on("dialog", (dialog) => dialog.accept());
  return problems;
}

/** A full-page screenshot, into the folder the spec's Rust side names. */
export async function shot(page, name) {
  await page.screenshot({ path: path.join(process.env.CAMEO_SCREENSHOTS ?? "test-results", `${name}.png`), fullPage: true });
}

/** axe-core finds no serious or critical violation of WCAG on the page. */
export async function accessible(page, name) {
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  expect(serious, `${name}: serious accessibility violations`).toEqual([]);
}

/** The API's JSON answer to a GET of `pathname` on the app's origin. */
export async function api(request, pathname) {
  const answer = await request.get(`${process.env.CAMEO_APP_URL}${pathname}`);
  expect(answer.ok(), `${pathname}: ${answer.status()}`).toBeTruthy();
  return answer.json();
}
