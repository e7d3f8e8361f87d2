//! AWS clients: the default credential chain (the pod's IRSA or Pod Identity role, or the
//! environment), the region from the environment, `AWS_ENDPOINT_URL` for local stand-ins.

use aws_config::BehaviorVersion;
use aws_smithy_http_client::tls;

pub struct Clients {
    pub sqs: aws_sdk_sqs::Client,
    pub s3: aws_sdk_s3::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
}

pub async fn clients() -> Result<Clients, String> {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring))
        .build_https();
    let config = aws_config::defaults(BehaviorVersion::latest()).http_client(http).load().await;
    if config.region().is_none() {
        return Err("no AWS region: set AWS_REGION".into());
    }
    // Local stand-ins answer on one host, so they address buckets by path.
    let path_style = ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"].iter().any(|v| std::env::var_os(v).is_some());
    let s3 = aws_sdk_s3::config::Builder::from(&config).force_path_style(path_style).build();
    Ok(Clients {
        sqs: aws_sdk_sqs::Client::new(&config),
        s3: aws_sdk_s3::Client::from_conf(s3),
        dynamodb: aws_sdk_dynamodb::Client::new(&config),
    })
}
