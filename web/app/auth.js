// Signing in: the OAuth 2.0 authorisation code flow with PKCE, against the provider that
// GET /app/config.json names (Cognito's hosted pages, or any OpenID Connect provider).
// Tokens live in memory only: a reload signs in again (without a prompt while the
// provider's session lasts). The access token, which carries the cameo/* scopes, is
// refreshed a minute before it expires, so an upload can outlast it. What must survive the
// redirect (the PKCE verifier, the state, where the user was) waits in sessionStorage,
// and is removed as soon as it is used.

const PENDING = "cameo.sign-in";
/** Refresh this long before the access token expires. */
const REFRESH_EARLY_MS = 60_000;

/**
 * @typedef {{clientId: string, authorizeUrl: string, tokenUrl: string, logoutUrl?: string, scopes: string[]}} SignInConfig
 * @typedef {{signIn: SignInConfig | null, devIdentity?: string}} AppConfig
 * @typedef {{name: string, token: () => Promise<string | null>, signOut: (() => void) | null}} Session
 */

/** Where the provider sends the browser back: the app's own address. */
function redirectUri() {
  return `${location.origin}/app/`;
}

function base64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomString() {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

/** The claims of a JWT, unverified: only to show who is signed in. */
function claims(jwt) {
  try {
    const payload = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(payload), (c) => c.charCodeAt(0))));
  } catch {
    return {};
  }
}

/**
 * Signs in, or comes back from signing in; resolves to the session, or never (while the
 * browser goes to the provider).
 * @param {AppConfig} config
 * @returns {Promise<Session>}
 */
export async function signIn(config) {
  if (!config.signIn) {
    if (config.devIdentity) return { name: config.devIdentity, token: async () => null, signOut: null };
    throw new Error("This installation has no way to sign in: its API was deployed without a sign-in client.");
  }
  const provider = config.signIn;
  const query = new URLSearchParams(location.search);
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? "null");
  if (query.has("error")) {
    sessionStorage.removeItem(PENDING);
    throw new Error(`Signing in failed: ${query.get("error_description") ?? query.get("error")}`);
  }
  if (query.has("code") && pending) {
    sessionStorage.removeItem(PENDING);
    if (query.get("state") !== pending.state) throw new Error("Signing in failed: the answer was not for this page. Reload to try again.");
    const tokens = await exchange(provider, {
      grant_type: "authorization_code",
      code: query.get("code") ?? "",
      redirect_uri: redirectUri(),
      code_verifier: pending.verifier,
    });
    history.replaceState(null, "", `${location.pathname}${pending.hash ?? ""}`);
    return session(provider, tokens);
  }
  await redirect(provider);
  return new Promise(() => {});
}

async function redirect(provider) {
  const verifier = randomString();
  const state = randomString();
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, hash: location.hash }));
  const url = new URL(provider.authorizeUrl);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: provider.clientId,
    redirect_uri: redirectUri(),
    scope: provider.scopes.join(" "),
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
  }).toString();
  location.assign(url.toString());
}

/** A token request (a public client: no secret). */
async function exchange(provider, form) {
  const answer = await fetch(provider.tokenUrl, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ client_id: provider.clientId, ...form }),
  });
  const body = await answer.json().catch(() => ({}));
  if (!answer.ok) throw new Error(`Signing in failed: ${body.error_description ?? body.error ?? answer.status}`);
  return body;
}

/** The session of fresh tokens, refreshing itself before the access token expires. */
function session(provider, tokens) {
  let current = tokens;
  let expiresAt = Date.now() + (current.expires_in ?? 3600) * 1000;
  let refreshing = null;
  const who = claims(current.id_token ?? current.access_token);
  const refresh = async () => {
    if (!current.refresh_token) return;
    const fresh = await exchange(provider, { grant_type: "refresh_token", refresh_token: current.refresh_token });
    current = { refresh_token: current.refresh_token, ...fresh };
    expiresAt = Date.now() + (current.expires_in ?? 3600) * 1000;
  };
  return {
    name: who.email ?? who.username ?? who["cognito:username"] ?? who.name ?? who.sub ?? "signed in",
    async token() {
      if (Date.now() > expiresAt - REFRESH_EARLY_MS) {
        refreshing ??= refresh().finally(() => (refreshing = null));
        await refreshing;
      }
      return current.access_token;
    },
    signOut() {
      current = {};
      if (!provider.logoutUrl) return location.assign(redirectUri());
      const url = new URL(provider.logoutUrl);
      // Cognito's and OpenID Connect's names for where to come back.
      url.search = new URLSearchParams({
        client_id: provider.clientId,
        logout_uri: redirectUri(),
        post_logout_redirect_uri: redirectUri(),
      }).toString();
      location.assign(url.toString());
    },
  };
}
