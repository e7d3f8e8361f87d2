//! Who is calling. Authentication belongs to API Gateway (a JWT authorizer or IAM): the
//! Lambda reads the identity it established from the request context and never checks a
//! credential itself. A request without one is refused, unless the local server was
//! started with an explicit development identity.

use lambda_http::request::RequestContext;

/// The caller's identity as stored with an upload (`uploaded-by`): `jwt:<issuer>|<subject>`
/// or `iam:<user ARN>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller(pub String);

/// Identities are stored in object metadata and items: bounded, no control characters.
const MAX_IDENTITY: usize = 512;

impl Caller {
    pub fn from_context(context: &RequestContext) -> Option<Caller> {
        let authorizer = context.authorizer()?;
        if let Some(jwt) = &authorizer.jwt {
            let subject = jwt.claims.get("sub").filter(|s| !s.is_empty())?;
            let issuer = jwt.claims.get("iss").map(String::as_str).unwrap_or_default();
            return Caller::new(format!("jwt:{issuer}|{subject}"));
        }
        let iam = authorizer.iam.as_ref()?;
        let principal = iam.user_arn.as_deref().or(iam.caller_id.as_deref()).filter(|s| !s.is_empty())?;
        Caller::new(format!("iam:{principal}"))
    }

    pub fn new(identity: String) -> Option<Caller> {
        let usable = identity.len() <= MAX_IDENTITY && !identity.chars().any(char::is_control);
        usable.then_some(Caller(identity))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(authorizer: serde_json::Value) -> RequestContext {
        let event = serde_json::json!({
            "version": "2.0", "routeKey": "$default", "rawPath": "/videos", "rawQueryString": "",
            "headers": {}, "isBase64Encoded": false,
            "requestContext": {
                "accountId": "123456789012", "apiId": "api", "domainName": "api.example.com", "domainPrefix": "api",
                "http": {"method": "GET", "path": "/videos", "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "t"},
                "requestId": "r", "routeKey": "$default", "stage": "$default", "time": "02/Dec/2026:00:00:00 +0000",
                "timeEpoch": 0, "authorizer": authorizer
            }
        });
        let request = lambda_http::request::from_str(&event.to_string()).unwrap();
        request.extensions().get::<RequestContext>().unwrap().clone()
    }

    #[test]
    fn a_jwt_names_its_issuer_and_subject_and_iam_its_principal() {
        let jwt = context(serde_json::json!({"jwt": {"claims": {"sub": "u-1", "iss": "https://idp"}, "scopes": null}}));
        assert_eq!(Caller::from_context(&jwt), Some(Caller("jwt:https://idp|u-1".into())));
        let iam = context(serde_json::json!({"iam": {"userArn": "arn:aws:iam::123456789012:user/ana"}}));
        assert_eq!(Caller::from_context(&iam), Some(Caller("iam:arn:aws:iam::123456789012:user/ana".into())));
        assert_eq!(Caller::from_context(&context(serde_json::json!({"jwt": {"claims": {}}}))), None);
        assert_eq!(Caller::from_context(&context(serde_json::json!({}))), None);
        let long = context(serde_json::json!({"jwt": {"claims": {"sub": "x".repeat(600)}}}));
        assert_eq!(Caller::from_context(&long), None, "an identity too long to store is no identity");
    }
}
