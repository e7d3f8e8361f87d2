//! The API's errors: each variant has its HTTP status and a stable `error` code, and is
//! answered as `{"error": "<code>", "message": "<what to do>"}`.

use axum::Json;
use axum::http::StatusCode;
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
    /// The caller's token lacks the scope the route needs.
    #[error("this route needs the scope {0}; ask for a token that carries it")]
    InsufficientScope(&'static str),
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
    /// S3 or DynamoDB failed; the details are logged, not answered.
    #[error("{0}")]
    Upstream(String),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Invalid { code, message: message.into() }
    }

    /// Logs an S3 or DynamoDB failure in full and answers a retryable 502.
    pub fn upstream(what: &str, error: impl std::fmt::Debug) -> Self {
        tracing::error!(?error, "{what} failed");
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
            ApiError::Upstream(_) => "upstream_unavailable",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error": self.code(), "message": self.to_string()});
        (self.status(), Json(body)).into_response()
    }
}
