//! AWS clients: the default credential chain (the Lambda's role, or the environment), the
//! region from the environment, `AWS_ENDPOINT_URL` for local stand-ins, standard retries.

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_s3::config::RequestChecksumCalculation;
use aws_smithy_http_client::tls;

/// Attempts per request; the Lambda answers within API Gateway's 30 s.
const MAX_ATTEMPTS: u32 = 3;

/// The configuration every client is made from.
pub async fn shared_config() -> SdkConfig {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
        .load()
        .await
}

/// The clients the API calls.
pub struct Clients {
    pub s3: aws_sdk_s3::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
}

pub async fn clients() -> Result<Clients, String> {
    let config = shared_config().await;
    if config.region().is_none() {
        return Err("no AWS region: set AWS_REGION".into());
    }
    let path_style = ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"].iter().any(|v| std::env::var_os(v).is_some());
    Ok(Clients {
        s3: s3_client(aws_sdk_s3::config::Builder::from(&config), path_style),
        dynamodb: aws_sdk_dynamodb::Client::new(&config),
        sqs: aws_sdk_sqs::Client::new(&config),
    })
}

/// The S3 client as the API needs it. Checksums only where S3 requires them: a checksum
/// in a presigned PUT would be of an empty body and fail every upload. Local stand-ins
/// answer on one host, so they address buckets by path.
pub fn s3_client(config: aws_sdk_s3::config::Builder, path_style: bool) -> aws_sdk_s3::Client {
    let config = config
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .force_path_style(path_style)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// The key of `uri` (`s3://<bucket>/<key>`) when it names an object in `bucket`.
pub fn key_in<'a>(uri: &'a str, bucket: &str) -> Option<&'a str> {
    uri.strip_prefix("s3://")?.strip_prefix(bucket)?.strip_prefix('/').filter(|key| !key.is_empty())
}

#[cfg(test)]
mod tests {
    use super::key_in;

    #[test]
    fn a_key_is_found_only_in_its_own_bucket() {
        assert_eq!(key_in("s3://raw/videos/a/b.mp4", "raw"), Some("videos/a/b.mp4"));
        for (uri, bucket) in
            [("s3://raw2/x", "raw"), ("s3://raw/", "raw"), ("https://raw/x", "raw"), ("s3://rawx", "raw")]
        {
            assert_eq!(key_in(uri, bucket), None, "{uri}");
        }
    }
}
