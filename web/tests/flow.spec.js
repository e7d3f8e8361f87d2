// The web app on the local stack (ingest/tests/flow.rs: the ingest, the operator and the
// detector in the cluster): the demo uploaded through the page, and the library following
// it from uploaded through its analysis to done without a reload; then its page.
import { test, expect } from "@playwright/test";
import { accessible, shot, watch } from "./support.js";

const app = process.env.CAMEO_APP_URL;
const videoFile = process.env.CAMEO_VIDEO_FILE;

test("an upload goes through its analysis to done in the library, with no reload", async ({ page }) => {
  test.setTimeout(420_000);
  const problems = watch(page);
  await page.goto(`${app}/app/#/upload`);
  await page.getByLabel("Title").fill("Flow in a Browser");
  await page.locator("#files").setInputFiles(videoFile);
  const upload = page.locator("li.upload");
  await expect(upload).toHaveAttribute("data-phase", "done", { timeout: 60_000 });
  const id = await upload.getAttribute("data-video");

  await page.goto(`${app}/app/#/library`);
  const row = page.locator(`tr[data-video="${id}"]`);
  await expect(row).toBeVisible();
  // Every state the row shows, as the page polls: it is never reloaded.
  await page.evaluate((video) => {
    const seen = (window.cameoStates = []);
    const note = () => {
      const state = document.querySelector(`tr[data-video="${video}"]`)?.getAttribute("data-state");
      if (state && seen[seen.length - 1] !== state) seen.push(state);
    };
    note();
    new MutationObserver(note).observe(document.body, { subtree: true, childList: true, attributes: true });
  }, id);
  await expect(row).toHaveAttribute("data-state", "succeeded", { timeout: 360_000 });
  const seen = await page.evaluate(() => window.cameoStates);
  expect(seen[seen.length - 1]).toBe("succeeded");
  expect(seen.some((state) => ["uploaded", "queued", "processing"].includes(state)), `states seen: ${seen}`).toBe(true);
  await shot(page, "flow-library");

  await row.getByRole("link", { name: "Flow in a Browser" }).click();
  await expect(page.locator(".lane.known").filter({ hasText: "Barack Obama" })).toHaveCount(1);
  await accessible(page, "video");
  await shot(page, "flow-video");
  expect(problems).toEqual([]);
});
