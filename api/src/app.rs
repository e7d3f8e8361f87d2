//! What every handler shares: the configuration, the AWS clients and, for the local
//! server only, a development identity; and the short-lived GET URLs they answer with.

use std::time::Duration;

use aws_sdk_s3::operation::get_object::builders::GetObjectFluentBuilder;
use aws_sdk_s3::presigning::PresigningConfig;

use crate::config::Config;
use crate::error::{ApiError, ApiResult};
use crate::identity::Caller;

pub struct App {
    pub config: Config,
    pub s3: aws_sdk_s3::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    /// Given to requests that arrive without an identity (`serve --dev-identity`, with
    /// `--dev-scopes`); never set in the Lambda.
    pub dev_identity: Option<Caller>,
}

impl App {
    /// A presigned GET of `bucket/key`, valid for the result URL lifetime: how a browser
    /// that cannot send a bearer token reads results, crops and photos. `what` names it in
    /// errors.
    pub async fn presigned_get(&self, bucket: &str, key: &str, what: &str) -> ApiResult<String> {
        self.presigned_get_for(bucket, key, what, self.config.result_url_ttl()).await
    }

    /// A presigned GET valid for `ttl`.
    pub async fn presigned_get_for(&self, bucket: &str, key: &str, what: &str, ttl: Duration) -> ApiResult<String> {
        presign(self.s3.get_object().bucket(bucket).key(key), what, ttl).await
    }
}

/// `request` presigned for `ttl` (a GET that may also name the answer's headers).
pub async fn presign(request: GetObjectFluentBuilder, what: &str, ttl: Duration) -> ApiResult<String> {
    let config = PresigningConfig::expires_in(ttl).map_err(|e| ApiError::upstream("presigning", e))?;
    let presigned =
        request.presigned(config).await.map_err(|e| ApiError::upstream(&format!("presigning {what}"), e))?;
    Ok(presigned.uri().into())
}
