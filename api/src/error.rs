//! The API's errors: each variant has its HTTP status and a stable `error` code, and is
//! answered as `{"error": "<code>", "message": "<what to do>"}`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A request that can never succeed as sent; `code` says which part is wrong.
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    #[error("{0}")]
    TooLarge(String),
    #[error("the request carries no caller identity: call through the API Gateway with a token")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    /// The caller's token lacks the scope the route needs (any one of them).
    #[error("this route needs the scope {0}; ask for a token that carries it")]
    InsufficientScope(String),
    #[error("{0}")]
    NotFound(String),
    #[error("this route does not take that method: see the README for the API's routes")]
    MethodNotAllowed,
    /// The request is valid but the video's state does not allow it now.
    #[error("{0}")]
    Conflict(String),
    /// A correction that cannot be made to the result as it stands; `code` says why.
    #[error("{message}")]
    Refused { code: &'static str, message: String },
    /// A write to a person or to a video's corrections needs `If-Match` with the version last read.
    #[error(
        "send If-Match with the ETag you read (a person's from GET /people/{{personId}}, a video's corrections' from GET /videos/{{id}}/curation), so that two editors cannot overwrite each other"
    )]
    PreconditionRequired,
    /// Someone else changed it since the caller read it.
    #[error("{0}")]
    PreconditionFailed(String),
    /// This deployment lacks what the route needs (a queue it was not given).
    #[error("{0}")]
    Unavailable(String),
    /// S3, DynamoDB or SQS asked us to slow down: answered 429 with `Retry-After`.
    #[error("cameo is busy; try again in a few seconds")]
    Throttled,
    /// S3 or DynamoDB failed; the details are logged, not answered.
    #[error("{0}")]
    Upstream(String),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Invalid { code, message: message.into() }
    }

    /// Logs an S3 or DynamoDB failure in full and answers a retryable 502, or a 429 when
    /// the service throttled us.
    pub fn upstream(what: &str, error: impl std::fmt::Debug) -> Self {
        let error = format!("{error:?}");
        if is_throttling(&error) {
            tracing::warn!(error, "{what} was throttled");
            return ApiError::Throttled;
        }
        tracing::error!(error, "{what} failed");
        ApiError::Upstream(format!("{what} failed; try again later"))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Invalid { .. } => StatusCode::BAD_REQUEST,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unauthenticated => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) | ApiError::InsufficientScope(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) | ApiError::Refused { .. } => StatusCode::CONFLICT,
            ApiError::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Throttled => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Upstream(_) => StatusCode::BAD_GATEWAY,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Invalid { code, .. } => code,
            ApiError::TooLarge(_) => "too_large",
            ApiError::Unauthenticated => "unauthenticated",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::InsufficientScope(_) => "insufficient_scope",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::Conflict(_) => "conflict",
            ApiError::Refused { code, .. } => code,
            ApiError::PreconditionRequired => "precondition_required",
            ApiError::PreconditionFailed(_) => "precondition_failed",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Throttled => "throttled",
            ApiError::Upstream(_) => "upstream_unavailable",
        }
    }
}

/// The error codes AWS services answer when they throttle (the SDKs' own list of
/// throttling errors, and S3's `SlowDown`), as an error's debug form shows them.
const THROTTLING_CODES: [&str; 7] = [
    "ThrottlingException",
    "Throttling",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "SlowDown",
    "RequestThrottled",
];

fn is_throttling(debug: &str) -> bool {
    THROTTLING_CODES.iter().any(|code| debug.contains(&format!("code: Some(\"{code}\")")))
}

/// Seconds a throttled client waits before trying again (the SDK already retried with
/// backoff before the error reached us).
const RETRY_AFTER_SECONDS: &str = "2";

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error": self.code(), "message": self.to_string()});
        let mut response = (self.status(), Json(body)).into_response();
        if matches!(self, ApiError::Throttled) {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECONDS));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::error::ErrorMetadata;

    #[test]
    fn a_throttled_service_is_answered_429_with_retry_after_and_other_failures_502() {
        let throttled = ErrorMetadata::builder().code("ProvisionedThroughputExceededException").message("slow").build();
        let error = ApiError::upstream("reading", throttled);
        let response = error.into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "2");
        let slow_down = ErrorMetadata::builder().code("SlowDown").build();
        assert!(matches!(ApiError::upstream("writing", slow_down), ApiError::Throttled));

        let denied = ErrorMetadata::builder().code("AccessDenied").message("Throttling is not this").build();
        let response = ApiError::upstream("reading", denied).into_response();
        assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
        assert!(!response.headers().contains_key(header::RETRY_AFTER));
    }
}
