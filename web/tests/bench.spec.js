// `make bench` (api/benches/web.rs): how long a big video's page takes to be usable, and
// the page's upload throughput beside plain parallel PUTs of the same parts. Prints one
// line, `cameo-bench {...}`, that the Rust side reads.
import { test, expect } from "@playwright/test";

const app = process.env.CAMEO_APP_URL;
const movie = process.env.CAMEO_BENCH_MOVIE;
const uploadFile = process.env.CAMEO_UPLOAD_FILE;
const uploadBytes = Number(process.env.CAMEO_UPLOAD_BYTES);
const ROUNDS = 3;

test("the video page and the upload, timed", async ({ page }) => {
  test.setTimeout(600_000);
  const numbers = { videoPageMs: [], appUploadMs: [], plainUploadMs: [] };
  // Each round a fresh load: a change of the fragment alone would keep the page.
  for (let round = 0; round < ROUNDS; round++) {
    await page.goto("about:blank");
    await page.goto(`${app}/app/#/videos/${movie}`);
    const measured = await page.waitForFunction(() => {
      const [measure] = performance.getEntriesByName("cameo:video");
      return measure ? measure.duration : null;
    }, null, { timeout: 120_000 });
    numbers.videoPageMs.push(await measured.jsonValue());
    await expect(page.locator(".lane")).not.toHaveCount(0);
  }

  for (let round = 0; round < ROUNDS; round++) {
    await page.goto("about:blank");
    await page.goto(`${app}/app/#/upload`);
    // Timed in the page, as the plain PUTs are: from the upload's row to its end.
    await page.evaluate(() => {
      const times = (window.cameoUploadTimes = {});
      new MutationObserver(() => {
        const row = document.querySelector("li.upload");
        if (row && times.start === undefined) times.start = performance.now();
        if (row?.dataset.phase === "done" && times.end === undefined) times.end = performance.now();
      }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-phase"] });
    });
    await page.locator("#files").setInputFiles(uploadFile);
    await expect(page.locator("li.upload")).toHaveAttribute("data-phase", "done", { timeout: 300_000 });
    numbers.appUploadMs.push(await page.evaluate(() => window.cameoUploadTimes.end - window.cameoUploadTimes.start));

    // The same parts, PUT by plain fetch four at a time to URLs the API minted.
    numbers.plainUploadMs.push(await page.evaluate(async (size) => {
      const body = new Blob([new Uint8Array(size).fill(7)]);
      const started = performance.now();
      const minted = await (await fetch("/videos", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ fileName: "plain.mp4", contentType: "video/mp4", sizeBytes: size }),
      })).json();
      const queue = [...minted.upload.parts];
      const etags = {};
      const worker = async () => {
        for (let part = queue.shift(); part; part = queue.shift()) {
          const from = (part.partNumber - 1) * minted.upload.partSizeBytes;
          const answer = await fetch(part.url, { method: "PUT", body: body.slice(from, from + part.sizeBytes) });
          etags[part.partNumber] = answer.headers.get("etag");
        }
      };
      await Promise.all([worker(), worker(), worker(), worker()]);
      const parts = minted.upload.parts.map((p) => ({ partNumber: p.partNumber, etag: etags[p.partNumber] }));
      await fetch(`/videos/${minted.videoId}/complete`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ parts }) });
      return performance.now() - started;
    }, uploadBytes));
  }
  console.log(`cameo-bench ${JSON.stringify(numbers)}`);
});
