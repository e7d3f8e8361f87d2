//! What the API serves from, and its limits: command-line flags or, in the Lambda, the
//! environment (`CAMEO_*`, set by Terraform).

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

const MIB: u64 = 1024 * 1024;
const GIB: u64 = 1024 * MIB;

/// S3's limit on a single PUT.
const S3_MAX_SINGLE_PUT: u64 = 5 * GIB;
/// SigV4 presigned URLs live at most 7 days.
const S3_MAX_URL_TTL_SECONDS: u64 = 7 * 24 * 3600;

#[derive(Debug, Clone, Args)]
pub struct Config {
    /// The bucket uploads go to (`videos/<id>/<file>`).
    #[arg(long, env = "CAMEO_RAW_BUCKET")]
    pub raw_bucket: String,

    /// The bucket the results are read from (`results/...`).
    #[arg(long, env = "CAMEO_PROCESSED_BUCKET")]
    pub processed_bucket: String,

    /// The MovieEntities table.
    #[arg(long, env = "CAMEO_TABLE", default_value = "MovieEntities")]
    pub table: String,

    /// Uploads up to this size get one presigned PUT; larger ones a multipart upload.
    #[arg(long, env = "CAMEO_SINGLE_PUT_MAX_BYTES", default_value_t = 100 * MIB)]
    pub single_put_max_bytes: u64,

    /// The largest video accepted.
    #[arg(long, env = "CAMEO_MAX_UPLOAD_BYTES", default_value_t = 50 * GIB)]
    pub max_upload_bytes: u64,

    /// How long upload URLs stay valid. With temporary credentials (a Lambda's role) a URL
    /// also stops working when the session that signed it expires.
    #[arg(long, env = "CAMEO_UPLOAD_URL_TTL_SECONDS", default_value_t = 3600)]
    pub upload_url_ttl_seconds: u64,

    /// Results up to this size are answered inline; larger ones by a redirect to a
    /// presigned GET (a Lambda response carries at most 6 MB).
    #[arg(long, env = "CAMEO_INLINE_RESULT_MAX_BYTES", default_value_t = 4 * MIB)]
    pub inline_result_max_bytes: u64,

    /// How long result download URLs stay valid.
    #[arg(long, env = "CAMEO_RESULT_URL_TTL_SECONDS", default_value_t = 300)]
    pub result_url_ttl_seconds: u64,

    /// How long a video's playback URL stays valid (the app asks again when it expires).
    #[arg(long, env = "CAMEO_MEDIA_URL_TTL_SECONDS", default_value_t = 900)]
    pub media_url_ttl_seconds: u64,

    /// The gallery's prefix in the raw bucket: people's photos go to `<prefix>.cameo/photos/`.
    #[arg(long, env = "CAMEO_GALLERY_PREFIX", default_value = "gallery/")]
    pub gallery_prefix: String,

    /// Where the curation worker writes its suggestions for naming in the processed
    /// bucket: its `--output-prefix` followed by `suggestions/`.
    #[arg(long, env = "CAMEO_SUGGESTIONS_PREFIX", default_value = cameo_model::suggestions::SUGGESTIONS_PREFIX)]
    pub suggestions_prefix: String,

    /// The gallery checker's queue, told after every change to the registry (it rebuilds the
    /// manifest). Unset: nobody is told, and the checker rebuilds it when it starts.
    #[arg(long, env = "CAMEO_GALLERY_QUEUE_URL")]
    pub gallery_queue_url: Option<String>,

    /// The curation worker's queue, told after every correction (it rewrites the result).
    /// Unset: nobody is told, and only this API's own answers show the corrections.
    #[arg(long, env = "CAMEO_CURATION_QUEUE_URL")]
    pub curation_queue_url: Option<String>,

    /// The ingest's queue, where `POST /videos/{id}/analyse` sends a video's upload event
    /// again. Unset: videos cannot be analysed again through the API.
    #[arg(long, env = "CAMEO_INGEST_QUEUE_URL")]
    pub ingest_queue_url: Option<String>,

    /// The largest gallery photo accepted.
    #[arg(long, env = "CAMEO_MAX_PHOTO_BYTES", default_value_t = 10 * MIB)]
    pub max_photo_bytes: u64,

    /// The web app's files, served under `/app/` [default: the folder `app` beside this
    /// executable, where the Lambda zip packs them beside `bootstrap`].
    #[arg(long, env = "CAMEO_APP_DIR", global = true)]
    pub app_dir: Option<PathBuf>,

    /// How the web app signs in (the OAuth 2.0 authorisation code flow with PKCE); unset
    /// with a development identity, which the app then uses.
    #[command(flatten)]
    pub sign_in: SignIn,
}

/// The OAuth 2.0 public client the web app signs in with: Cognito's app client and its
/// domain's endpoints (Terraform sets them), or any OpenID Connect provider's.
#[derive(Debug, Clone, Default, Args)]
pub struct SignIn {
    /// The app's OAuth 2.0 client id.
    #[arg(long = "sign-in-client-id", env = "CAMEO_SIGN_IN_CLIENT_ID")]
    pub client_id: Option<String>,

    /// The provider's authorisation endpoint (Cognito: `<domain>/oauth2/authorize`).
    #[arg(long = "sign-in-authorize-url", env = "CAMEO_SIGN_IN_AUTHORIZE_URL")]
    pub authorize_url: Option<String>,

    /// The provider's token endpoint (Cognito: `<domain>/oauth2/token`).
    #[arg(long = "sign-in-token-url", env = "CAMEO_SIGN_IN_TOKEN_URL")]
    pub token_url: Option<String>,

    /// Where signing out goes (Cognito: `<domain>/logout`); unset: the app only forgets
    /// its tokens.
    #[arg(long = "sign-in-logout-url", env = "CAMEO_SIGN_IN_LOGOUT_URL")]
    pub logout_url: Option<String>,
}

impl SignIn {
    /// Says what is missing or not a URL a browser may be sent to.
    pub fn check(&self) -> Result<(), String> {
        let set = [&self.client_id, &self.authorize_url, &self.token_url].iter().filter(|v| v.is_some()).count();
        if set != 0 && set != 3 {
            return Err("sign-in needs its client id, authorisation URL and token URL together".into());
        }
        if self.logout_url.is_some() && set == 0 {
            return Err("a sign-out URL needs the rest of sign-in".into());
        }
        for url in [&self.authorize_url, &self.token_url, &self.logout_url].into_iter().flatten() {
            crate::webapp::origin(url)
                .filter(|origin| origin.starts_with("https://") || origin.starts_with("http://127.0.0.1"))
                .ok_or_else(|| format!("sign-in URLs must be https:// (or http://127.0.0.1 for tests), not {url:?}"))?;
        }
        Ok(())
    }
}

impl Config {
    /// Says which setting is out of range, so a bad deployment fails at start-up.
    pub fn check(&self) -> Result<(), String> {
        let in_range = |name: &str, value: u64, min: u64, max: u64| {
            if (min..=max).contains(&value) {
                Ok(())
            } else {
                Err(format!("{name} must be in {min}..={max}, not {value}"))
            }
        };
        in_range("the single PUT limit", self.single_put_max_bytes, 1, S3_MAX_SINGLE_PUT)?;
        in_range("the upload size limit", self.max_upload_bytes, 1, crate::plan::MAX_UPLOAD_BYTES)?;
        in_range("the upload URL lifetime", self.upload_url_ttl_seconds, 60, S3_MAX_URL_TTL_SECONDS)?;
        in_range("the result URL lifetime", self.result_url_ttl_seconds, 10, S3_MAX_URL_TTL_SECONDS)?;
        in_range("the media URL lifetime", self.media_url_ttl_seconds, 10, S3_MAX_URL_TTL_SECONDS)?;
        in_range("the inline result limit", self.inline_result_max_bytes, 1, 5 * MIB)?;
        in_range("the photo size limit", self.max_photo_bytes, 1024, 50 * MIB)?;
        if !(self.gallery_prefix.is_empty() || self.gallery_prefix.ends_with('/'))
            || self.gallery_prefix.starts_with('/')
        {
            return Err(format!("the gallery prefix must be empty or end in '/', not {:?}", self.gallery_prefix));
        }
        if !self.suggestions_prefix.ends_with('/') || self.suggestions_prefix.starts_with('/') {
            return Err(format!("the suggestions prefix must end in '/', not {:?}", self.suggestions_prefix));
        }
        self.sign_in.check()?;
        for (name, bucket) in [("raw", &self.raw_bucket), ("processed", &self.processed_bucket)] {
            if bucket.is_empty() {
                return Err(format!("the {name} bucket is not set"));
            }
        }
        Ok(())
    }

    pub fn upload_url_ttl(&self) -> Duration {
        Duration::from_secs(self.upload_url_ttl_seconds)
    }

    pub fn result_url_ttl(&self) -> Duration {
        Duration::from_secs(self.result_url_ttl_seconds)
    }

    pub fn media_url_ttl(&self) -> Duration {
        Duration::from_secs(self.media_url_ttl_seconds)
    }

    /// Where the web app's files are.
    pub fn app_dir(&self) -> PathBuf {
        self.app_dir.clone().unwrap_or_else(|| {
            let exe = std::env::current_exe().unwrap_or_default();
            exe.parent().map(|dir| dir.join("app")).unwrap_or_else(|| PathBuf::from("app"))
        })
    }
}
