//! The buckets answer the web app's browser: Terraform's CORS rules (the storage module,
//! applied to moto by hack/with-cluster from terraform/examples/local-stack) let the app's
//! origin PUT upload parts to the raw bucket and read their ETag, play videos from it, and
//! GET results, crops and exports from the processed bucket; any other origin is refused.
//! And the proxy the browser tests put before s3s-fs (which answers no preflight) does as
//! the buckets do, without loosening a signature.

#[path = "../../operator/tests/stack/mod.rs"]
mod stack;
mod support;

use support::*;

/// A browser's preflight: `OPTIONS` from `origin` for `method` with `headers`.
async fn preflight(url: &str, origin: &str, method: &str, headers: &str) -> Answer {
    let mut asked = vec![("origin", origin), ("access-control-request-method", method)];
    if !headers.is_empty() {
        asked.push(("access-control-request-headers", headers));
    }
    http("OPTIONS", url, &asked, Vec::new()).await
}

fn header(answer: &Answer, name: &str) -> String {
    answer.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_ascii_lowercase()
}

#[tokio::test]
async fn the_buckets_answer_the_apps_origin_and_refuse_others() {
    let cloud = stack::cloud("cameo");
    let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("moto's endpoint, from hack/with-cluster");
    assert_eq!(cloud.app_origins.len(), 1, "the local stack allows one app origin: {:?}", cloud.app_origins);
    let app = cloud.app_origins[0].as_str();
    let raw = format!("{endpoint}/{}/videos/0123456789abcdef0123456789abcdef/film.mp4", cloud.raw_bucket);
    let processed = format!("{endpoint}/{}/results/media/film/exports/result.vtt", cloud.processed_bucket);

    // Upload parts: a PUT whose answer's ETag the app reads to complete the upload.
    let put = preflight(&raw, app, "PUT", "content-type").await;
    assert_eq!(put.status, 200, "{}", String::from_utf8_lossy(&put.body));
    assert_eq!(header(&put, "access-control-allow-origin"), app);
    assert!(header(&put, "access-control-allow-methods").contains("put"), "{:?}", put.headers);
    assert!(header(&put, "access-control-expose-headers").contains("etag"), "{:?}", put.headers);

    // Results, crops and the WebVTT track: GETs from the processed bucket, by range too.
    let get = preflight(&processed, app, "GET", "range").await;
    assert_eq!(get.status, 200, "{}", String::from_utf8_lossy(&get.body));
    assert_eq!(header(&get, "access-control-allow-origin"), app);
    assert!(header(&get, "access-control-allow-methods").contains("get"), "{:?}", get.headers);
    assert!(header(&get, "access-control-allow-headers").contains("range"), "{:?}", get.headers);
    assert!(header(&get, "access-control-expose-headers").contains("content-range"), "{:?}", get.headers);

    // Nobody else, and nothing but reading and uploading.
    for (url, method) in [(&raw, "PUT"), (&processed, "GET"), (&raw, "GET")] {
        let refused = preflight(url, "https://elsewhere.example", method, "").await;
        assert_eq!(refused.status, 403, "{method} {url} from another origin");
    }
    // moto answers a method no rule allows with the rule's methods, which a browser then
    // refuses; S3 answers 403. Either way, no DELETE is allowed.
    let delete = preflight(&processed, app, "DELETE", "").await;
    let allowed = header(&delete, "access-control-allow-methods");
    assert!(delete.status == 403 || !allowed.contains("delete"), "the app never deletes from the buckets: {allowed}");
}

/// s3s-fs answers no preflight: the browser tests put the CORS proxy in front of it, which
/// answers preflights as the buckets' rules do and keeps every signature checked.
#[tokio::test]
async fn the_proxy_before_the_strict_s3_answers_preflights_and_keeps_signatures_checked() {
    let s3 = StrictS3::start();
    s3.create_buckets().await;
    let app = "http://127.0.0.1:8080";
    let proxy = support::cors_proxy::CorsProxy::start(&s3.endpoint, app).await;
    let url = format!("{}/{RAW}/videos/0123456789abcdef0123456789abcdef/film.mp4", proxy.endpoint);
    let put = preflight(&url, app, "PUT", "content-type").await;
    assert_eq!((put.status.as_u16(), header(&put, "access-control-allow-origin")), (200, app.to_string()));
    assert_eq!(preflight(&url, "https://elsewhere.example", "PUT", "").await.status, 403);
    assert_eq!(preflight(&url, app, "DELETE", "").await.status, 403);

    // A URL presigned for the proxy's address passes; the same URL altered does not.
    let client =
        aws_sdk_s3::Client::from_conf(s3.client().await.config().to_builder().endpoint_url(&proxy.endpoint).build());
    let presigning = aws_sdk_s3::presigning::PresigningConfig::expires_in(std::time::Duration::from_secs(60)).unwrap();
    let key = "videos/0123456789abcdef0123456789abcdef/film.mp4";
    let signed = client.put_object().bucket(RAW).key(key).presigned(presigning).await.unwrap();
    let signed = signed.uri().to_string();
    let sent = http("PUT", &signed, &[("origin", app)], b"frames".to_vec()).await;
    assert_eq!(sent.status, 200, "{}", String::from_utf8_lossy(&sent.body));
    assert_eq!(header(&sent, "access-control-allow-origin"), app);
    assert!(header(&sent, "access-control-expose-headers").contains("etag"));
    let altered = signed.replace("film.mp4", "other.mp4");
    assert_eq!(http("PUT", &altered, &[("origin", app)], b"frames".to_vec()).await.status, 403);
    assert_eq!(proxy.forwarded().len(), 2, "both PUTs reached s3s-fs, which refused the altered one");
}
