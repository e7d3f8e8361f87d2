// Browser tests on Debian's Chromium (DESIGN section 11): Playwright's own browsers are
// never downloaded. detector/tests/report.rs runs them with the report to open.
import { defineConfig } from "@playwright/test";

export default defineConfig({
  testDir: "tests",
  outputDir: process.env.CAMEO_SCREENSHOTS ?? "test-results",
  reporter: "line",
  timeout: 60_000,
  use: {
    launchOptions: {
      executablePath: process.env.CAMEO_CHROMIUM ?? "/usr/bin/chromium",
      args: ["--no-sandbox", "--allow-file-access-from-files"],
    },
    viewport: { width: 1280, height: 900 },
  },
});
