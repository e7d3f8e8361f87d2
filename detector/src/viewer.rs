//! The local HTML report (`detect --report`): one self-contained file that shows the
//! results in the web app's viewer module (`web/app/viewer.js`, inlined here so that the
//! detector never needs Node to build): the video beside it in a player, the people with
//! their thumbnails (inlined as data URLs) and screen time, and a lane per person.

use std::collections::BTreeMap;

use base64::Engine;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::results::ResultsDocument;

const VIEWER_JS: &str = include_str!("../../web/app/viewer.js");
const VIEWER_CSS: &str = include_str!("../../web/app/viewer.css");

/// What a path segment of a URL may hold as it is.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// The report of `document`: `video_url` is where the player finds the video, relative
/// to the report; `images` holds the JPEG of each face crop the document refers to.
pub fn report_html(document: &ResultsDocument, video_url: &str, images: &BTreeMap<String, Vec<u8>>) -> String {
    let base64 = base64::engine::general_purpose::STANDARD;
    let data_urls: BTreeMap<&str, String> = images
        .iter()
        .map(|(path, jpeg)| (path.as_str(), format!("data:image/jpeg;base64,{}", base64.encode(jpeg))))
        .collect();
    let media = serde_json::json!({ "video": video_url, "images": data_urls });
    let title = document.movie.as_ref().and_then(|m| m.title.clone()).unwrap_or_else(|| document.video.source.clone());
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; media-src file: http: https:; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>cameo: {title}</title>
<style>
{VIEWER_CSS}</style>
</head>
<body>
<main id="cameo-viewer"></main>
<script type="application/json" id="cameo-results">{results}</script>
<script type="application/json" id="cameo-media">{media}</script>
<script type="module">
{VIEWER_JS}
const data = (id) => JSON.parse(document.getElementById(id).textContent);
const media = data("cameo-media");
mountViewer(document.getElementById("cameo-viewer"), {{
  results: data("cameo-results"),
  videoUrl: media.video,
  imageUrl: (path) => media.images[path] ?? null,
}});
</script>
</body>
</html>
"#,
        title = escape_html(&title),
        results = script_json(&serde_json::to_value(document).unwrap_or_default()),
        media = script_json(&media),
    )
}

/// JSON that cannot end the `<script>` element holding it.
fn script_json(value: &serde_json::Value) -> String {
    value.to_string().replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A relative path (`/`-separated) as a URL path: each segment percent-encoded.
pub fn url_path(path: &str) -> String {
    let segments: Vec<String> = path.split('/').map(|s| utf8_percent_encode(s, SEGMENT).to_string()).collect();
    segments.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{person, results};

    #[test]
    fn names_cannot_break_out_of_the_report() {
        let mut document = results(vec![person("</script><img src=x onerror=alert(1)>", &[(1.0, 2.0)])], vec![]);
        document.movie = Some(crate::results::Movie { title: Some("<b>Film & co</b>".into()), ..Default::default() });
        let html = report_html(&document, "demo.mp4", &BTreeMap::new());
        assert!(!html.contains("</script><img"));
        assert!(html.contains("<title>cameo: &lt;b&gt;Film &amp; co&lt;/b&gt;</title>"));
        assert_eq!(html.matches("</script>").count(), 3, "only the report's own scripts end");
    }

    #[test]
    fn a_path_becomes_a_url_segment_by_segment() {
        assert_eq!(url_path("../videos/my film#1?.mp4"), "../videos/my%20film%231%3F.mp4");
    }
}
