// The web app in Debian's Chromium, against `cameo-api serve`, a strict S3 behind the
// CORS proxy and moto (api/tests/browser.rs starts them, and checks afterwards what S3
// holds and which parts were sent). One story, in order: upload and resume, the
// library, a video's page, correcting it, the people.
import { test, expect } from "@playwright/test";
import { accessible, api, shot, watch } from "./support.js";

const app = process.env.CAMEO_APP_URL;
const uploadFile = process.env.CAMEO_UPLOAD_FILE;
const videoId = process.env.CAMEO_VIDEO_ID;

test.describe.configure({ mode: "serial" });

test.beforeAll(() => {
  expect(app && uploadFile && videoId, "CAMEO_APP_URL, CAMEO_UPLOAD_FILE and CAMEO_VIDEO_ID are set by api/tests/browser.rs").toBeTruthy();
});

/** Parts the page recorded as sent, for resuming (IndexedDB). */
function partsKept(page) {
  return page.evaluate(() => new Promise((resolve) => {
    const opened = indexedDB.open("cameo", 1);
    opened.onupgradeneeded = () => opened.result.createObjectStore("uploads", { keyPath: "videoId" });
    opened.onsuccess = () => {
      const all = opened.result.transaction("uploads").objectStore("uploads").getAll();
      all.onsuccess = () => resolve(all.result.reduce((n, u) => n + Object.keys(u.etags).length, 0));
    };
  }));
}

test("an upload of several parts survives a reload and resumes with only the missing parts", async ({ page }) => {
  const problems = watch(page);
  await page.goto(`${app}/app/#/upload`);
  await expect(page.getByRole("heading", { name: "Upload" })).toBeVisible();
  await page.getByLabel("Title").fill("Les Enfants du paradis");
  // The third part does not leave before the reload.
  let held = 0;
  await page.route(/partNumber=3(&|$)/, () => {
    held += 1;
  });
  await page.locator("#files").setInputFiles(uploadFile);
  await expect.poll(() => partsKept(page), { timeout: 60_000 }).toBe(2);
  await expect(page.locator("li.upload .numbers")).toContainText("%");
  await shot(page, "upload-under-way");
  // Reloaded first: the held part is dropped with the page, never sent.
  await page.reload();
  await page.unrouteAll({ behavior: "ignoreErrors" });

  await expect(page.getByRole("heading", { name: "Unfinished uploads" })).toBeVisible();
  await shot(page, "upload-to-resume");
  // The library, open beside it, follows the upload without a reload.
  const library = await page.context().newPage();
  await library.goto(`${app}/app/#/library`);
  const row = library.locator("tr").filter({ hasText: "Les Enfants du paradis" });
  await expect(row).toHaveAttribute("data-state", "awaiting_upload");
  await page.locator("#files").setInputFiles(uploadFile);
  await expect(page.locator("li.upload")).toHaveAttribute("data-phase", "done", { timeout: 60_000 });
  await expect(row).toHaveAttribute("data-state", "uploaded", { timeout: 20_000 });
  await library.close();
  expect(held).toBeGreaterThan(0);
  await expect(page.getByRole("heading", { name: "Unfinished uploads" })).toHaveCount(0);
  await accessible(page, "upload");
  await shot(page, "upload-done");

  await page.goto(`${app}/app/#/library`);
  await expect(page.locator("tr").filter({ hasText: "Les Enfants du paradis" })).toHaveAttribute("data-state", "uploaded");
  await expect(page.locator("tr").filter({ hasText: "The Demo" })).toHaveAttribute("data-state", "succeeded");
  await accessible(page, "library");
  await shot(page, "library");
  await page.setViewportSize({ width: 390, height: 844 });
  await shot(page, "library-phone");
  expect(problems).toEqual([]);
});

test("a video's page: a lane per person, a click seeks the player, who is on screen, the subtitles", async ({ page, request }) => {
  const problems = watch(page);
  const results = await api(request, `/videos/${videoId}/result`);
  await page.goto(`${app}/app/#/videos/${videoId}`);
  const everyone = [...results.people, ...results.unknown];
  await expect(page.locator(".viewer .person")).toHaveCount(everyone.length);
  for (const person of results.people) {
    const lane = page.locator(".lane.known").filter({ hasText: person.name });
    await expect(lane.locator(".appearance")).toHaveCount(person.appearances.length);
  }
  for (const image of await page.locator(".viewer .person img.thumbnail").all()) {
    await expect.poll(() => image.evaluate((img) => img.complete && img.naturalWidth)).toBeGreaterThan(0);
  }
  const player = page.locator("video.player");
  await expect.poll(() => player.evaluate((video) => video.readyState), { timeout: 20_000 }).toBeGreaterThanOrEqual(1);

  const person = results.people[0];
  const appearance = person.appearances[person.appearances.length - 1];
  await page.locator(".lane.known").filter({ hasText: person.name }).locator(".appearance").last().click();
  await expect.poll(() => player.evaluate((video) => video.currentTime)).toBeCloseTo(appearance.startSeconds, 1);
  const onScreen = (p) => p.appearances.some((a) => a.startSeconds <= appearance.startSeconds && appearance.startSeconds < a.endSeconds);
  for (const p of everyone) {
    const card = page.locator(`.viewer .person[data-id="${p.id}"]`);
    if (onScreen(p)) await expect(card).toHaveClass(/on-screen/);
    else await expect(card).not.toHaveClass(/on-screen/);
  }

  // The WebVTT export as the player's track: a cue per appearance.
  const appearances = everyone.reduce((n, p) => n + p.appearances.length, 0);
  await expect.poll(() => player.evaluate((video) => {
    const track = video.textTracks[0];
    if (!track) return -1;
    if (track.mode === "disabled") track.mode = "hidden";
    return track.cues ? track.cues.length : -1;
  }), { timeout: 20_000 }).toBe(appearances);
  await expect(page.locator(".exports a")).toHaveCount(3);
  const performance = await page.evaluate(() => window.performance.getEntriesByName("cameo:video").map((m) => m.duration));
  expect(performance.length).toBe(1);
  await accessible(page, "video");
  await shot(page, "video");
  expect(problems).toEqual([]);
});

test("naming a face, saying a match is not that person, undoing it, splitting and reassigning: the page and the API agree", async ({ page, request }) => {
  const problems = watch(page);
  const before = await api(request, `/videos/${videoId}/result`);
  const stranger = [...before.unknown].sort((a, b) => b.screenTimeSeconds - a.screenTimeSeconds)[0];
  const obama = before.people.find((p) => p.name === "Barack Obama");
  expect(stranger && obama, "the demo has an unknown face and Obama").toBeTruthy();
  await page.goto(`${app}/app/#/videos/${videoId}`);

  const cluster = page.locator(`.cluster[data-cluster="${stranger.id}"]`);
  await cluster.getByRole("combobox", { name: `Name ${stranger.name}` }).fill("Joe Biden");
  await cluster.getByRole("button", { name: "Name", exact: true }).click();
  await expect(page.locator(".lane.known").filter({ hasText: "Joe Biden" })).toHaveCount(1);
  let now = await api(request, `/videos/${videoId}/result`);
  expect(now.people.map((p) => p.name)).toContain("Joe Biden");

  await page.locator(`.cluster.known[data-cluster="${obama.id}"]`).getByRole("button", { name: "Not this person" }).click();
  await expect(page.locator(".lane.known").filter({ hasText: "Barack Obama" })).toHaveCount(0);
  now = await api(request, `/videos/${videoId}/result`);
  expect(now.people.map((p) => p.name)).not.toContain("Barack Obama");

  // The face that was Obama's, now unknown: one of its appearances split off is a face of its own.
  const wasObama = now.unknown.find((g) => g.appearances.length === obama.appearances.length);
  const card = page.locator(`.cluster[data-cluster="${wasObama.id}"]`);
  await card.locator("summary").click();
  await card.getByRole("button", { name: new RegExp(`^Split .* off ${wasObama.name}$`) }).last().click();
  await expect(page.locator(".cluster:not(.known)")).toHaveCount(now.unknown.length + 1);
  const split = await api(request, `/videos/${videoId}/result`);
  expect(split.unknown.length).toBe(now.unknown.length + 1);

  // The audit, newest first: undo the split, then the rejection.
  const audit = page.locator(".audit li");
  await audit.filter({ hasText: "Split" }).getByRole("button", { name: "Undo" }).click();
  await expect(page.locator(".cluster:not(.known)")).toHaveCount(now.unknown.length);
  await audit.filter({ hasText: "not this person" }).getByRole("button", { name: "Undo" }).click();
  await expect(page.locator(".lane.known").filter({ hasText: "Barack Obama" })).toHaveCount(1);
  now = await api(request, `/videos/${videoId}/result`);
  expect(now.people.find((p) => p.name === "Barack Obama").appearances.length).toBe(obama.appearances.length);
  expect(now.people.map((p) => p.name)).toContain("Joe Biden");

  // A named face reassigned to someone else, whose name is in another script.
  const bidenCard = page.locator(".cluster.known").filter({ hasText: "Joe Biden" });
  await bidenCard.getByRole("textbox", { name: "Reassign Joe Biden to" }).fill("黒澤 明");
  await bidenCard.getByRole("button", { name: "Reassign" }).click();
  await expect(page.locator(".lane.known").filter({ hasText: "黒澤 明" })).toHaveCount(1);
  now = await api(request, `/videos/${videoId}/result`);
  expect(now.people.map((p) => p.name)).toContain("黒澤 明");
  expect(now.people.map((p) => p.name)).not.toContain("Joe Biden");

  const log = await api(request, `/videos/${videoId}/curation`);
  expect(log.actions.map((a) => a.action)).toEqual(["name", "reject", "split", "undo", "undo", "reassign"]);
  await expect(page.locator(".audit li")).toHaveCount(6);
  await accessible(page, "video after corrections");
  await shot(page, "video-corrected");
  expect(problems).toEqual([]);
});

test("the people: the gallery, a person's page, the review queue", async ({ page }) => {
  const problems = watch(page);
  await page.goto(`${app}/app/#/people`);
  await expect(page.locator(".person-card").filter({ hasText: "Barack Obama" })).toBeVisible();
  await expect(page.locator(".person-card").filter({ hasText: "Joe Biden" })).toBeVisible();
  await accessible(page, "people");
  await shot(page, "people");
  await page.locator(".person-card a").filter({ hasText: "Joe Biden" }).click();
  await expect(page.getByRole("heading", { name: "Joe Biden", level: 1 })).toBeVisible();
  await expect(page.getByRole("heading", { name: "Photos" })).toBeVisible();
  await accessible(page, "person");
  await shot(page, "person");
  await page.goto(`${app}/app/#/review`);
  await expect(page.getByRole("heading", { name: "Review" })).toBeVisible();
  await accessible(page, "review");
  await shot(page, "review");
  expect(problems).toEqual([]);
});
