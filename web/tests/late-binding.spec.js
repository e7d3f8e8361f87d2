// Late binding in the web app (api/tests/browser_late_binding.rs runs the real curation
// worker beside it): a face named on video A's page shows under that name on video B's,
// where it was unknown, said to be cameo's doing in B's audit.
import { test, expect } from "@playwright/test";
import { accessible, api, shot, watch } from "./support.js";

const app = process.env.CAMEO_APP_URL;
const videoA = process.env.CAMEO_VIDEO_A;
const videoB = process.env.CAMEO_VIDEO_B;

test("a face named on one video's page shows under that name on another's", async ({ page, request }) => {
  test.setTimeout(240_000);
  const problems = watch(page);
  const a = await api(request, `/videos/${videoA}/result`);
  const b = await api(request, `/videos/${videoB}/result`);
  // Biden, on screen from 9 s, is in neither video's gallery.
  const stranger = a.unknown.find((g) => Math.abs(g.firstSeenSeconds - 9) < 0.6);
  expect(stranger, "A has an unknown face at 9 s").toBeTruthy();
  expect(b.unknown.some((g) => Math.abs(g.firstSeenSeconds - 9) < 0.6), "so does B").toBeTruthy();

  await page.goto(`${app}/app/#/videos/${videoA}`);
  const cluster = page.locator(`.cluster[data-cluster="${stranger.id}"]`);
  await cluster.getByRole("combobox", { name: `Name ${stranger.name}` }).fill("Joe Biden");
  await cluster.getByRole("button", { name: "Name", exact: true }).click();
  await expect(page.locator(".lane.known").filter({ hasText: "Joe Biden" })).toHaveCount(1);

  await page.goto(`${app}/app/#/videos/${videoB}`);
  const named = page.locator(".lane.known").filter({ hasText: "Joe Biden" });
  await expect.poll(async () => {
    await page.reload();
    await page.locator(".viewer .lane").first().waitFor();
    return named.count();
  }, { timeout: 180_000, intervals: [2_000] }).toBe(1);
  const now = await api(request, `/videos/${videoB}/result`);
  expect(now.people.map((p) => p.name)).toContain("Joe Biden");
  await expect(page.locator(".audit li").first()).toContainText("cameo");
  await accessible(page, "video after late binding");
  await shot(page, "late-binding");
  expect(problems).toEqual([]);
});
