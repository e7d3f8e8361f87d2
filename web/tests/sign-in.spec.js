// Signing in with the authorisation code flow and PKCE (api/tests/browser_sign_in.rs
// serves the app with Cognito's settings and no development identity). The provider's
// endpoints are answered here, checking what a provider checks; the API's answers are the
// real ones, which refuse a request without API Gateway's identity, so the calls the
// page makes to the API are caught here too, to see the token they carry.
import { test, expect } from "@playwright/test";
import { createHash } from "node:crypto";

const app = process.env.CAMEO_APP_URL;
const provider = process.env.CAMEO_PROVIDER;

const base64url = (buffer) => buffer.toString("base64").replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const jwt = (claims) => `e30.${base64url(Buffer.from(JSON.stringify(claims)))}.sig`;

test("the app signs in with PKCE, sends the access token, and refreshes it before it expires", async ({ page }) => {
  const config = await (await page.request.get(`${app}/app/config.json`)).json();
  expect(config.signIn.clientId).toBe("cameo-app-client");
  expect(config.signIn.scopes).toEqual(["openid", "cameo/read", "cameo/upload", "cameo/curate"]);

  let challenge = null;
  const grants = [];
  const escape = (text) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  await page.route(new RegExp(`^${escape(provider)}/oauth2/authorize\\?`), async (route) => {
    const asked = new URL(route.request().url()).searchParams;
    expect(asked.get("response_type")).toBe("code");
    expect(asked.get("client_id")).toBe("cameo-app-client");
    expect(asked.get("redirect_uri")).toBe(`${app}/app/`);
    expect(asked.get("code_challenge_method")).toBe("S256");
    expect(asked.get("scope")).toBe("openid cameo/read cameo/upload cameo/curate");
    challenge = asked.get("code_challenge");
    await route.fulfill({ status: 302, headers: { location: `${app}/app/?code=the-code&state=${encodeURIComponent(asked.get("state"))}` } });
  });
  await page.route(`${provider}/oauth2/token`, async (route) => {
    const form = new URLSearchParams(route.request().postData() ?? "");
    grants.push(form.get("grant_type"));
    const cors = { "access-control-allow-origin": app, "content-type": "application/json" };
    if (form.get("grant_type") === "authorization_code") {
      expect(form.get("code")).toBe("the-code");
      expect(form.get("client_id")).toBe("cameo-app-client");
      expect(form.get("redirect_uri")).toBe(`${app}/app/`);
      // What the provider checks: the verifier hashes to the challenge it was shown.
      expect(base64url(createHash("sha256").update(form.get("code_verifier")).digest())).toBe(challenge);
      // Expiring within the minute the app refreshes ahead: its next call refreshes.
      return route.fulfill({ headers: cors, body: JSON.stringify({
        access_token: "access-1", refresh_token: "refresh-1", expires_in: 30, token_type: "Bearer",
        id_token: jwt({ email: "ana@example.com" }) }) });
    }
    expect(form.get("refresh_token")).toBe("refresh-1");
    return route.fulfill({ headers: cors, body: JSON.stringify({ access_token: "access-2", expires_in: 3600, token_type: "Bearer" }) });
  });
  const tokens = [];
  await page.route(new RegExp(`^${escape(app)}/library\\?`), async (route) => {
    tokens.push(route.request().headers().authorization ?? null);
    await route.fulfill({ json: { items: [], next: null } });
  });

  await page.goto(`${app}/app/#/library`);
  await expect(page.locator("#who")).toHaveText("ana@example.com");
  await expect(page.getByRole("heading", { name: "Library" })).toBeVisible();
  expect(page.url()).toBe(`${app}/app/#/library`);
  expect(grants).toEqual(["authorization_code", "refresh_token"]);
  expect(tokens[0]).toBe("Bearer access-2");
  // Nothing of the sign-in is left where a script could find it later.
  expect(await page.evaluate(() => [sessionStorage.length, localStorage.length])).toEqual([0, 0]);
  await page.screenshot({ path: `${process.env.CAMEO_SCREENSHOTS ?? "test-results"}/signed-in.png` });
});
