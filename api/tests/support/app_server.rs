//! The web app as a browser reaches it locally: `cameo-api serve` with `web/app/` and a
//! development identity, on the strict S3 (its client pointed at the CORS proxy before
//! s3s-fs) or on moto; stopped (by PID) when dropped. And Playwright, on Debian's
//! Chromium, to drive it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::{MIB, PROCESSED, RAW};

/// `web/`: the app, its tests and their tools.
pub fn web() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../web")
}

pub struct AppServer {
    child: Child,
    /// `http://127.0.0.1:<port>`: the app's origin.
    pub url: String,
}

impl Drop for AppServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl AppServer {
    /// Serves on `port` with `env` (the buckets, the table, where AWS is), signed in as
    /// the development identity `ana@example.com`.
    pub fn start(binary: &Path, port: u16, env: &[(&str, String)]) -> AppServer {
        AppServer::start_as(binary, port, env, Some("ana@example.com"))
    }

    /// Serves with the development identity `dev_identity`, or none (then the app signs
    /// in as its `CAMEO_SIGN_IN_*` settings say).
    pub fn start_as(binary: &Path, port: u16, env: &[(&str, String)], dev_identity: Option<&str>) -> AppServer {
        let listen = format!("127.0.0.1:{port}");
        let mut command = Command::new(binary);
        command.args(["serve", "--listen", &listen]);
        if let Some(identity) = dev_identity {
            command.args(["--dev-identity", identity]);
        }
        command.arg("--app-dir").arg(web().join("app")).stdout(Stdio::null()).stderr(Stdio::inherit());
        for (name, value) in env {
            command.env(name, value);
        }
        let child = command.spawn().expect("cameo-api serve starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(&listen).is_err() {
            assert!(Instant::now() < deadline, "cameo-api serve did not listen on {listen}");
            std::thread::sleep(Duration::from_millis(50));
        }
        AppServer { child, url: format!("http://{listen}") }
    }
}

/// The environment of an app on the strict S3 (through the proxy at `s3_endpoint`, with
/// s3s-fs's keys; moto takes any) and moto's `table`.
pub fn strict_env(table: &str, s3_endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("CAMEO_RAW_BUCKET", RAW.into()),
        ("CAMEO_PROCESSED_BUCKET", PROCESSED.into()),
        ("CAMEO_TABLE", table.into()),
        ("CAMEO_SINGLE_PUT_MAX_BYTES", (4 * MIB).to_string()),
        ("AWS_ENDPOINT_URL_S3", s3_endpoint.into()),
        ("AWS_ACCESS_KEY_ID", "cameo-strict".into()),
        ("AWS_SECRET_ACCESS_KEY", "cameo-strict-secret".into()),
    ]
}

/// Has moto's `bucket` answer the app at `origin` as the storage module's CORS rules do.
/// moto answers a preflight from one rule whatever its method, so one rule holds them all.
pub async fn answer_app(s3: &aws_sdk_s3::Client, bucket: &str, origin: &str) {
    let mut rule = aws_sdk_s3::types::CorsRule::builder().allowed_origins(origin).allowed_headers("*");
    for method in ["GET", "HEAD", "PUT"] {
        rule = rule.allowed_methods(method);
    }
    for exposed in ["Accept-Ranges", "Content-Length", "Content-Range", "ETag"] {
        rule = rule.expose_headers(exposed);
    }
    let cors = aws_sdk_s3::types::CorsConfiguration::builder().cors_rules(rule.build().unwrap()).build().unwrap();
    s3.put_bucket_cors().bucket(bucket).cors_configuration(cors).send().await.expect("moto keeps the bucket's CORS");
}

/// Runs the Playwright spec `spec` (in `web/tests/`) with `env`; fails with what it said
/// when a browser test fails, or with how to install what is missing. Its screenshots go
/// to a folder of its own (Playwright empties its output folder first), which it prints.
pub fn playwright(spec: &str, env: &[(&str, &str)]) -> Output {
    let stem = spec.trim_end_matches(".js").trim_end_matches(".spec");
    let screenshots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots-app").join(stem);
    let playwright = web().join("node_modules/.bin/playwright");
    assert!(playwright.exists(), "{} is missing: run `make test-tools` (npm ci in web/)", playwright.display());
    let chromium = std::env::var("CAMEO_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(Path::new(&chromium).exists(), "{chromium} is missing: run `make test-tools` (Debian's chromium)");
    let mut command = Command::new(&playwright);
    command
        .args(["test", spec])
        .current_dir(web())
        .env("CAMEO_CHROMIUM", &chromium)
        .env("CAMEO_SCREENSHOTS", &screenshots);
    for (name, value) in env {
        command.env(name, value);
    }
    let run = command.output().expect("playwright runs");
    let said = format!("{}{}", String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    assert!(run.status.success(), "the browser test failed:\n{said}");
    println!("screenshots in {}", screenshots.display());
    run
}
