//! Signing in to the web app (web/tests/sign-in.spec.js, in Debian's Chromium), as
//! Terraform configures it for Cognito: the authorisation code flow with PKCE. No identity
//! provider runs here, so the page's requests to the provider's two endpoints are answered
//! by the spec, which checks what a provider checks (the client, the redirect, the
//! S256 challenge against the verifier) and hands out short-lived tokens; the app must
//! then send the access token on every call, and refresh it before it expires.

mod support;

use std::path::Path;

use support::app_server::{AppServer, playwright, strict_env};
use support::*;

const PROVIDER: &str = "https://cameo.auth.eu-west-1.amazoncognito.com";

#[tokio::test]
async fn the_app_signs_in_with_pkce_sends_the_access_token_and_refreshes_it() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut env = strict_env(&table("sign-in"), "http://127.0.0.1:9");
    env.extend([
        ("CAMEO_SIGN_IN_CLIENT_ID", "cameo-app-client".to_string()),
        ("CAMEO_SIGN_IN_AUTHORIZE_URL", format!("{PROVIDER}/oauth2/authorize")),
        ("CAMEO_SIGN_IN_TOKEN_URL", format!("{PROVIDER}/oauth2/token")),
        ("CAMEO_SIGN_IN_LOGOUT_URL", format!("{PROVIDER}/logout")),
    ]);
    let server = AppServer::start_as(Path::new(env!("CARGO_BIN_EXE_cameo-api")), port, &env, None);
    playwright("sign-in.spec.js", &[("CAMEO_APP_URL", &server.url), ("CAMEO_PROVIDER", PROVIDER)]);
}
