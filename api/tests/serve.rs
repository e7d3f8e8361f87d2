//! `cameo-api serve`: the same router over plain HTTP on a loopback address, for
//! development and tests. It needs an explicit development identity to answer at all,
//! and refuses to listen anywhere but on loopback.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use support::*;

const BINARY: &str = env!("CARGO_BIN_EXE_cameo-api");

struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The binary on moto, with a table and a raw bucket of the test's own.
fn command(table: &str, raw: &str) -> Command {
    let mut command = Command::new(BINARY);
    command
        .env("CAMEO_RAW_BUCKET", raw)
        .env("CAMEO_PROCESSED_BUCKET", PROCESSED)
        .env("CAMEO_TABLE", table)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

/// Starts `serve` on a free port and waits until it answers.
fn serve(table: &str, raw: &str, extra: &[&str]) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let listen = format!("127.0.0.1:{port}");
    let child = command(table, raw).args(["serve", "--listen", &listen]).args(extra).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(&listen).is_err() {
        assert!(Instant::now() < deadline, "cameo-api serve did not listen on {listen}");
        std::thread::sleep(Duration::from_millis(50));
    }
    Server { child, url: format!("http://{listen}") }
}

#[tokio::test]
async fn serve_answers_over_http_as_its_development_identity_and_only_with_one() {
    let table = table("serve");
    let raw = format!("api-serve-{}", uuid::Uuid::new_v4().simple());
    let created = raw.clone();
    with_moto(move |aws| aws.create_bucket(&created).unwrap());
    let upload = json!({"fileName": "clip.webm", "contentType": "video/webm", "sizeBytes": 2048}).to_string();

    let server = serve(&table, &raw, &["--dev-identity", "dev@laptop"]);
    let minted =
        http("POST", &format!("{}/videos", server.url), &[("content-type", "application/json")], upload.clone().into())
            .await;
    assert_eq!(minted.status, 201, "{}", String::from_utf8_lossy(&minted.body));
    let minted = minted.json();
    assert_eq!(minted["upload"]["method"], "PUT");
    let id = minted["videoId"].as_str().unwrap();
    let state = http("GET", &format!("{}/videos/{id}", server.url), &[], Vec::new()).await.json();
    assert_eq!(state["state"], "awaiting_upload");
    assert_eq!(state["uploadedBy"], "dev@laptop");
    drop(server);

    let server = serve(&table, &raw, &["--dev-identity", "reader@laptop", "--dev-scopes", "cameo/read"]);
    let refused = http("POST", &format!("{}/videos", server.url), &[], upload.clone().into()).await;
    assert_eq!((refused.status.as_u16(), refused.error().as_str()), (403, "insufficient_scope"));
    let state = http("GET", &format!("{}/videos/{id}", server.url), &[], Vec::new()).await;
    assert_eq!(state.status, 200, "reading needs cameo/read only");
    drop(server);

    let server = serve(&table, &raw, &[]);
    let refused = http("POST", &format!("{}/videos", server.url), &[], upload.into()).await;
    assert_eq!(refused.status, 401);
    assert_eq!(refused.error(), "unauthenticated");
}

/// `serve` serves the app from a folder, and tells it to use the development identity
/// instead of signing in.
#[tokio::test]
async fn serve_serves_the_app_from_its_folder_signed_in_as_the_development_identity() {
    let app = tempfile::tempdir().unwrap();
    std::fs::write(app.path().join("index.html"), "<!doctype html><title>cameo</title>").unwrap();
    let folder = app.path().to_str().unwrap();
    let server = serve("unused", "unused", &["--dev-identity", "dev@laptop", "--app-dir", folder]);
    let page = http("GET", &format!("{}/app/", server.url), &[], Vec::new()).await;
    assert_eq!((page.status.as_u16(), page.body.as_slice()), (200, &b"<!doctype html><title>cameo</title>"[..]));
    assert!(page.headers.contains_key("content-security-policy"));
    let settings = http("GET", &format!("{}/app/config.json", server.url), &[], Vec::new()).await.json();
    assert_eq!(settings, json!({"signIn": null, "devIdentity": "dev@laptop"}));
}

#[test]
fn serve_refuses_addresses_other_than_loopback_and_a_missing_bucket() {
    let command = || command("unused", "unused");
    let public = command().args(["serve", "--listen", "0.0.0.0:0", "--dev-identity", "x"]).status().unwrap();
    assert_eq!(public.code(), Some(3), "a non-loopback address is a configuration error");
    let unset = command().env_remove("CAMEO_RAW_BUCKET").args(["serve"]).status().unwrap();
    assert_eq!(unset.code(), Some(2), "clap names the missing setting");
    let bad = command().env("CAMEO_UPLOAD_URL_TTL_SECONDS", "5").args(["serve"]).status().unwrap();
    assert_eq!(bad.code(), Some(3), "a URL lifetime under a minute is refused");
    let scope = command().args(["serve", "--dev-identity", "x", "--dev-scopes", "cameo/admin"]).status().unwrap();
    assert_eq!(scope.code(), Some(2), "an unknown scope is refused");
    let half = command().env("CAMEO_SIGN_IN_CLIENT_ID", "app").args(["serve"]).status().unwrap();
    assert_eq!(half.code(), Some(3), "sign-in without its endpoints is refused");
}
