//! What every handler shares: the configuration, the AWS clients and, for the local
//! server only, a development identity.

use crate::config::Config;
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
