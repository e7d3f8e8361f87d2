//! AWS clients: the default credential chain (environment, IRSA web identity, EKS Pod
//! Identity, instance profile), the region from the environment, an endpoint override
//! (`AWS_ENDPOINT_URL`) for local stand-ins, and standard retries with backoff on
//! throttling and 5xx.

use std::future::Future;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_sdk_sqs::types::Message;
use aws_smithy_http_client::tls;

use crate::error::{Error, Result};

/// Attempts per request (the first and four retries).
const MAX_ATTEMPTS: u32 = 5;

pub struct Aws {
    runtime: tokio::runtime::Runtime,
    pub s3: aws_sdk_s3::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
}

impl Aws {
    pub fn from_env() -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Config(format!("cannot start the async runtime: {e}")))?;
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring))
            .build_https();
        let config = runtime.block_on(
            aws_config::defaults(BehaviorVersion::latest())
                .http_client(http)
                .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
                .load(),
        );
        if config.region().is_none() {
            return Err(Error::Config("no AWS region: set AWS_REGION".into()));
        }
        // Local stand-ins answer on one host: address buckets by path, not by subdomain.
        let custom_endpoint = ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"].iter().any(|v| std::env::var_os(v).is_some());
        let s3_config = aws_sdk_s3::config::Builder::from(&config).force_path_style(custom_endpoint).build();
        Ok(Aws {
            s3: aws_sdk_s3::Client::from_conf(s3_config),
            dynamodb: aws_sdk_dynamodb::Client::new(&config),
            sqs: aws_sdk_sqs::Client::new(&config),
            runtime,
        })
    }

    /// Runs one AWS call (or several) to completion; the pipeline itself is synchronous.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }
}

/// An I/O error saying what failed (`context`) and why, from an SDK error.
impl Aws {
    /// Up to 10 messages of a queue, waiting up to `wait` (at most 20 s) for the first.
    pub fn receive(&self, queue_url: &str, wait: std::time::Duration, what: &str) -> Result<Vec<Message>> {
        let receive = self
            .sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(wait.as_secs().min(20) as i32);
        let received =
            self.block_on(receive.send()).map_err(|e| sdk_error(format!("cannot receive from {what}"), &e))?;
        Ok(received.messages.unwrap_or_default())
    }

    /// Deletes a handled message.
    pub fn delete_message(&self, queue_url: &str, receipt: &str) -> Result<()> {
        let delete = self.sqs.delete_message().queue_url(queue_url).receipt_handle(receipt);
        self.block_on(delete.send()).map(|_| ()).map_err(|e| sdk_error("cannot delete a handled message", &e))
    }
}

pub fn sdk_error<E: std::error::Error + 'static, R: std::fmt::Debug>(
    context: impl Into<String>,
    error: &aws_sdk_s3::error::SdkError<E, R>,
) -> Error {
    Error::io(context, std::io::Error::other(describe(error)))
}

/// The message of an SDK error, with the service's error code where there is one.
fn describe<E: std::error::Error + 'static, R>(error: &aws_sdk_s3::error::SdkError<E, R>) -> String
where
    R: std::fmt::Debug,
{
    use std::fmt::Write;
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let _ = write!(text, ": {cause}");
        source = cause.source();
    }
    text
}
