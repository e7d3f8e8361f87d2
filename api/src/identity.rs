//! Who is calling, and what they may do. Authentication belongs to API Gateway (a JWT
//! authorizer or IAM): the Lambda reads the identity and the scopes it established from
//! the request context and never checks a credential itself. A request without an
//! identity is refused, unless the local server was started with an explicit development
//! identity.

use lambda_http::request::RequestContext;

/// What a caller may do, as OAuth scopes of the resource server `cameo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// Video state, results, faces, people.
    Read,
    /// Uploads.
    Upload,
    /// People, their photos, erasing, curation.
    Curate,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Read, Scope::Upload, Scope::Curate];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "cameo/read",
            Scope::Upload => "cameo/upload",
            Scope::Curate => "cameo/curate",
        }
    }

    pub fn parse(text: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// The caller: their identity as stored with what they write (`jwt:<issuer>|<subject>` or
/// `iam:<user ARN>`), and their scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub id: String,
    /// A name a person can read in the audit trail: the token's `username`, `email` or
    /// `name` claim, else the end of the identity.
    pub name: String,
    pub scopes: Vec<Scope>,
}

/// Identities are stored in object metadata and items: bounded, no control characters.
const MAX_IDENTITY: usize = 512;

fn usable(text: &str) -> bool {
    !text.is_empty() && text.len() <= MAX_IDENTITY && !text.chars().any(char::is_control)
}

impl Caller {
    /// A JWT caller has the scopes of its access token (API Gateway's `scopes`, or the
    /// `scope` claim); unknown ones are ignored, and a token without any may do nothing.
    /// An IAM caller has every scope: its IAM policy on `execute-api:Invoke` decides which
    /// routes it may call.
    pub fn from_context(context: &RequestContext) -> Option<Caller> {
        let authorizer = context.authorizer()?;
        if let Some(jwt) = &authorizer.jwt {
            let subject = jwt.claims.get("sub").filter(|s| !s.is_empty())?;
            let issuer = jwt.claims.get("iss").map(String::as_str).unwrap_or_default();
            let listed = jwt.scopes.clone().unwrap_or_default();
            let claimed = jwt.claims.get("scope").map(|s| s.split_whitespace().map(str::to_string).collect());
            let scopes = if listed.is_empty() { claimed.unwrap_or_default() } else { listed };
            let caller = Caller::new(format!("jwt:{issuer}|{subject}"), scopes.iter().filter_map(|s| Scope::parse(s)))?;
            let readable = ["username", "email", "name"].iter().find_map(|claim| jwt.claims.get(*claim));
            return Some(match readable.filter(|n| usable(n)) {
                Some(name) => Caller { name: name.clone(), ..caller },
                None => caller,
            });
        }
        let iam = authorizer.iam.as_ref()?;
        let principal = iam.user_arn.as_deref().or(iam.caller_id.as_deref()).filter(|s| !s.is_empty())?;
        Caller::new(format!("iam:{principal}"), Scope::ALL)
    }

    pub fn new(identity: String, scopes: impl IntoIterator<Item = Scope>) -> Option<Caller> {
        let mut scopes: Vec<Scope> = scopes.into_iter().collect();
        scopes.sort_unstable();
        scopes.dedup();
        // `jwt:<issuer>|<subject>` reads as the subject, `iam:<ARN>` as its last part.
        let name = identity.rsplit(['|', '/', ':']).next().unwrap_or(&identity).to_string();
        usable(&identity).then_some(Caller { id: identity, name, scopes })
    }

    pub fn may(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
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
        assert_eq!(Caller::from_context(&jwt), Caller::new("jwt:https://idp|u-1".into(), []));
        let iam = context(serde_json::json!({"iam": {"userArn": "arn:aws:iam::123456789012:user/ana"}}));
        assert_eq!(
            Caller::from_context(&iam),
            Caller::new("iam:arn:aws:iam::123456789012:user/ana".into(), Scope::ALL)
        );
        assert_eq!(Caller::from_context(&context(serde_json::json!({"jwt": {"claims": {}}}))), None);
        assert_eq!(Caller::from_context(&context(serde_json::json!({}))), None);
        let long = context(serde_json::json!({"jwt": {"claims": {"sub": "x".repeat(600)}}}));
        assert_eq!(Caller::from_context(&long), None, "an identity too long to store is no identity");
    }

    #[test]
    fn a_jwt_caller_has_the_scopes_of_its_token_and_no_others() {
        let listed = context(serde_json::json!({"jwt": {"claims": {"sub": "u"},
            "scopes": ["cameo/read", "cameo/curate", "aws.cognito.signin.user.admin", "other/read"]}}));
        assert_eq!(Caller::from_context(&listed).unwrap().scopes, vec![Scope::Read, Scope::Curate]);
        let claimed = context(serde_json::json!({"jwt": {"claims": {"sub": "u", "scope": "openid cameo/upload"}}}));
        assert_eq!(Caller::from_context(&claimed).unwrap().scopes, vec![Scope::Upload]);
        let none = context(serde_json::json!({"jwt": {"claims": {"sub": "u"}, "scopes": ["email"]}}));
        assert!(Caller::from_context(&none).unwrap().scopes.is_empty());
    }
}
