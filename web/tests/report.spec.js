// The detector's HTML report, opened from file:// as a user would: the people with their
// thumbnails, a lane per person, and a click on an appearance that seeks the player.
import { test, expect } from "@playwright/test";
import { pathToFileURL } from "node:url";
import path from "node:path";

const report = process.env.CAMEO_REPORT;

test("a click on an appearance seeks the player there and highlights who is on screen", async ({ page }) => {
  expect(report, "CAMEO_REPORT names the report to open").toBeTruthy();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => message.type() === "error" && errors.push(message.text()));
  await page.goto(pathToFileURL(report).href);

  const results = JSON.parse(await page.locator("#cameo-results").textContent());
  const everyone = [...results.people, ...results.unknown];
  await expect(page.locator(".person")).toHaveCount(everyone.length);
  // Every thumbnail is a face that loaded, not a broken image.
  const thumbnails = page.locator(".person img.thumbnail");
  await expect(thumbnails).toHaveCount(everyone.filter((p) => p.thumbnail).length);
  for (const image of await thumbnails.all()) {
    await expect.poll(() => image.evaluate((img) => img.complete && img.naturalWidth)).toBeGreaterThan(0);
  }

  const player = page.locator("video.player");
  await expect.poll(() => player.evaluate((video) => video.readyState)).toBeGreaterThanOrEqual(1);

  // The first known person's last appearance, by its lane.
  const person = results.people[0];
  const appearance = person.appearances[person.appearances.length - 1];
  const lane = page.locator(".lane.known").filter({ hasText: person.name });
  await lane.locator(".appearance").last().click();
  await expect.poll(() => player.evaluate((video) => video.currentTime)).toBeCloseTo(appearance.startSeconds, 1);

  // Who is on screen then is highlighted; someone who is not, is not.
  const onScreen = (p) => p.appearances.some((a) => a.startSeconds <= appearance.startSeconds && appearance.startSeconds < a.endSeconds);
  for (const p of everyone) {
    const card = page.locator(`.person[data-id="${p.id}"]`);
    if (onScreen(p)) await expect(card).toHaveClass(/on-screen/);
    else await expect(card).not.toHaveClass(/on-screen/);
  }
  await page.screenshot({ path: path.join(test.info().outputDir, "report.png"), fullPage: true });
  expect(errors).toEqual([]);
});
