//! The web app's routes, as API Gateway sends them (without an authorizer) and as `serve`
//! answers them: the only routes a browser reaches without a token, serving the app's
//! files from its folder and nothing beside them, with a strict policy, and telling the
//! app how to sign in.

mod support;

use std::path::Path;

use cameo_api::config::SignIn;
use support::*;

const INDEX: &str = "<!doctype html><title>cameo</title><script type=\"module\" src=\"main.js\"></script>";

/// An app folder with a page, a module, a style in a subfolder and a dot file; and a file
/// beside the folder that must never be served.
fn app_folder() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let app = root.path().join("app");
    std::fs::create_dir_all(app.join("styles")).unwrap();
    std::fs::write(app.join("index.html"), INDEX).unwrap();
    std::fs::write(app.join("main.js"), "export const answer = 42;\n").unwrap();
    std::fs::write(app.join("styles/app.css"), "body { margin: 0 }\n").unwrap();
    std::fs::write(app.join(".env"), "SECRET=1\n").unwrap();
    std::fs::write(root.path().join("outside.txt"), "not the app's\n").unwrap();
    root
}

fn cognito() -> SignIn {
    let domain = "https://cameo.auth.eu-west-1.amazoncognito.com";
    SignIn {
        client_id: Some("app-client".into()),
        authorize_url: Some(format!("{domain}/oauth2/authorize")),
        token_url: Some(format!("{domain}/oauth2/token")),
        logout_url: Some(format!("{domain}/logout")),
    }
}

/// A request as API Gateway sends an unauthenticated route: no authorizer in the context.
async fn anonymous(router: &axum::Router, method: &str, path: &str) -> Answer {
    call(router, event(method, path, "", None, None)).await
}

fn header<'a>(answer: &'a Answer, name: &str) -> &'a str {
    answer.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_else(|| panic!("no {name} header"))
}

#[tokio::test]
async fn the_app_is_served_without_a_token_and_nothing_else_is() {
    let folder = app_folder();
    let mut config = config("unused");
    config.app_dir = Some(folder.path().join("app"));
    config.sign_in = cognito();
    let (router, _) = router(config, moto_s3().await).await;

    for path in ["/", "/app"] {
        let answer = anonymous(&router, "GET", path).await;
        assert!(answer.status.is_redirection(), "{path}: {}", answer.status);
        assert_eq!(header(&answer, "location"), "/app/");
    }

    let page = anonymous(&router, "GET", "/app/").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.body, INDEX.as_bytes());
    assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8");
    assert_eq!(header(&page, "cache-control"), "no-cache");
    assert_eq!(header(&page, "x-content-type-options"), "nosniff");
    assert_eq!(header(&page, "referrer-policy"), "no-referrer");
    // The policy names the buckets where this API's presigned URLs point (moto here) and
    // the provider's endpoints, and nothing inline.
    let policy = header(&page, "content-security-policy");
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap();
    let directive = |name: &str| policy.split("; ").find(|d| d.starts_with(&format!("{name} "))).unwrap().to_string();
    assert_eq!(directive("script-src"), "script-src 'self'");
    assert_eq!(directive("media-src"), format!("media-src 'self' blob: {endpoint}"));
    assert_eq!(
        directive("connect-src"),
        format!("connect-src 'self' {endpoint} https://cameo.auth.eu-west-1.amazoncognito.com")
    );
    assert_eq!(directive("frame-ancestors"), "frame-ancestors 'none'");

    let module = anonymous(&router, "GET", "/app/main.js").await;
    assert_eq!((module.status.as_u16(), header(&module, "content-type")), (200, "text/javascript; charset=utf-8"));
    assert_eq!(module.body, std::fs::read(folder.path().join("app/main.js")).unwrap());
    let style = anonymous(&router, "GET", "/app/styles/app.css").await;
    assert_eq!((style.status.as_u16(), header(&style, "content-type")), (200, "text/css; charset=utf-8"));

    let settings = anonymous(&router, "GET", "/app/config.json").await;
    assert_eq!(settings.status, 200);
    assert_eq!(header(&settings, "cache-control"), "no-store");
    assert!(settings.headers.contains_key("content-security-policy"));
    let settings = settings.json();
    assert_eq!(settings["signIn"]["clientId"], "app-client");
    assert_eq!(settings["signIn"]["authorizeUrl"], "https://cameo.auth.eu-west-1.amazoncognito.com/oauth2/authorize");
    assert_eq!(settings["signIn"]["tokenUrl"], "https://cameo.auth.eu-west-1.amazoncognito.com/oauth2/token");
    assert_eq!(
        settings["signIn"]["scopes"],
        serde_json::json!(["openid", "cameo/read", "cameo/upload", "cameo/curate"])
    );
    assert!(settings.get("devIdentity").is_none());

    // Nothing but the folder's plain files: no dot file, no folder, no way out of it (a
    // path that leaves /app/ is not the app's, and needs a token).
    for path in
        ["/app/.env", "/app/styles", "/app/%2E%2E/outside.txt", "/app/styles/..%2F..%2Foutside.txt", "/app/nope.js"]
    {
        let answer = anonymous(&router, "GET", path).await;
        let refused = [(404, "not_found"), (401, "unauthenticated")];
        assert!(refused.contains(&(answer.status.as_u16(), answer.error().as_str())), "{path}: {}", answer.status);
        assert!(!answer.body.windows(8).any(|w| w == b"SECRET=1" || w == b"not the "), "{path}");
    }
    assert_eq!(anonymous(&router, "POST", "/app/index.html").await.status, 405);

    // Every route of the API still needs a caller: the app's are the only open ones.
    for (method, route, _) in cameo_api::routes::ROUTES {
        let path = route.replace("{id}", "0123456789abcdef0123456789abcdef").replace("{personId}", "p-1");
        let path = path.replace("{photoId}", "ph-1").replace("{seq}", "1").replace("{name}", "Ana");
        let answer = anonymous(&router, method, &path).await;
        assert_eq!((answer.status.as_u16(), answer.error().as_str()), (401, "unauthenticated"), "{method} {path}");
    }
}

#[tokio::test]
async fn an_api_without_the_apps_files_says_so_and_still_answers_its_settings() {
    let mut config = config("unused");
    config.app_dir = Some(Path::new("/nonexistent/cameo-app").to_path_buf());
    let (router, _) = router(config, moto_s3().await).await;
    let page = anonymous(&router, "GET", "/app/").await;
    assert_eq!(page.status, 404);
    assert!(page.json()["message"].as_str().unwrap().contains("not installed"), "{}", page.json());
    let settings = anonymous(&router, "GET", "/app/config.json").await.json();
    assert!(settings["signIn"].is_null(), "no sign-in configured: {settings}");
}

#[test]
fn sign_in_settings_come_whole_and_as_https() {
    assert!(cognito().check().is_ok());
    assert!(SignIn::default().check().is_ok());
    let half = SignIn { token_url: None, ..cognito() };
    assert!(half.check().unwrap_err().contains("together"));
    let plain = SignIn { token_url: Some("http://login.example.com/token".into()), ..cognito() };
    assert!(plain.check().unwrap_err().contains("https://"));
    let script = SignIn { authorize_url: Some("javascript:alert(1)".into()), ..cognito() };
    assert!(script.check().is_err());
}
