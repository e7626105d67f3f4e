//! Reading OAuth requests: the form body and the client's credentials.

use super::error::OAuthError;
use axum::http::{header, HeaderMap, Uri};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use std::collections::HashMap;

/// Parses an `application/x-www-form-urlencoded` body. Refuses parameters in the URL
/// (credentials must never travel there), other content types, and repeated parameters
/// (RFC 6749 §3.2). Empty values count as absent.
pub fn parse(
    headers: &HeaderMap,
    uri: &Uri,
    body: &[u8],
) -> Result<HashMap<String, String>, OAuthError> {
    if uri.query().is_some_and(|q| !q.is_empty()) {
        return Err(OAuthError::invalid_request(
            "Send parameters in the form body, not in the URL.",
        ));
    }
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| {
            m.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form_type {
        return Err(OAuthError::invalid_request(
            "The body must be application/x-www-form-urlencoded.",
        ));
    }
    let mut params = HashMap::new();
    for (key, value) in form_urlencoded::parse(body) {
        if params.contains_key(key.as_ref()) {
            return Err(OAuthError::invalid_request(format!(
                "The parameter `{key}` is repeated."
            )));
        }
        params.insert(key.into_owned(), value.into_owned());
    }
    params.retain(|_, v| !v.is_empty());
    Ok(params)
}

fn form_decode(text: &str) -> Option<String> {
    let plus_as_space = text.replace('+', " ");
    percent_encoding::percent_decode_str(&plus_as_space)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

/// The client ID and secret, from `client_secret_basic` (RFC 6749 §2.3.1: each part is
/// form-urlencoded before Basic encoding, so both are decoded after base64) or
/// `client_secret_post`. Using both methods at once is refused. `None`: no credentials.
pub fn credentials(
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Result<Option<(String, String)>, OAuthError> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("basic").then(|| rest.trim())
        });
    let posted_secret = params.get("client_secret");
    match basic {
        Some(encoded) => {
            if posted_secret.is_some() {
                return Err(OAuthError::invalid_request(
                    "Use one client authentication method: Basic or client_secret in the body, not both.",
                ));
            }
            let malformed = || OAuthError::invalid_request("The Basic credentials are malformed.");
            let decoded = STANDARD.decode(encoded).map_err(|_| malformed())?;
            let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
            let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
            let (id, secret) = (
                form_decode(id).ok_or_else(malformed)?,
                form_decode(secret).ok_or_else(malformed)?,
            );
            if params.get("client_id").is_some_and(|posted| *posted != id) {
                return Err(OAuthError::invalid_request(
                    "client_id in the body differs from the one in the Basic credentials.",
                ));
            }
            Ok(Some((id, secret)))
        }
        None => match (params.get("client_id"), posted_secret) {
            (Some(id), Some(secret)) => Ok(Some((id.clone(), secret.clone()))),
            _ => Ok(None),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn form_headers() -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        h
    }

    #[test]
    fn basic_credentials_are_form_decoded_after_base64() {
        let mut h = form_headers();
        let encoded = STANDARD.encode("my%2Bid:a%3Ab+c%25");
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {encoded}")).unwrap(),
        );
        let creds = credentials(&h, &HashMap::new()).unwrap().unwrap();
        assert_eq!(creds, ("my+id".to_owned(), "a:b c%".to_owned()));
    }

    #[test]
    fn repeated_parameters_and_url_parameters_are_refused() {
        let uri: Uri = "/oauth/token".parse().unwrap();
        assert!(parse(&form_headers(), &uri, b"scope=a&scope=b").is_err());
        let with_query: Uri = "/oauth/token?client_secret=x".parse().unwrap();
        assert!(parse(
            &form_headers(),
            &with_query,
            b"grant_type=client_credentials"
        )
        .is_err());
        assert!(parse(&HeaderMap::new(), &uri, b"grant_type=client_credentials").is_err());
    }

    #[test]
    fn two_authentication_methods_at_once_are_refused() {
        let mut h = form_headers();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic YTpi"),
        );
        let params = HashMap::from([("client_secret".to_owned(), "b".to_owned())]);
        assert!(credentials(&h, &params).is_err());
    }
}
