//! The one kind of request verification makes: a `GET` with a bearer token, blocking, with a
//! deadline, no redirects followed, no retries.
//!
//! Built on `ureq` (a small blocking client) with `rustls` and its `ring` provider and the
//! bundled Mozilla roots (`webpki-roots`, as `certifi` is for huggingface_hub): no OpenSSL,
//! no cmake or nasm to build, and the same trust on every machine. Proxies come from
//! `HTTPS_PROXY`/`ALL_PROXY`/`NO_PROXY`, as huggingface_hub (requests) reads them.

use crate::secret::Secret;
use std::time::Duration;
use zeroize::Zeroizing;

/// What the server answered.
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// A response body bigger than this is not a whoami answer.
const BODY_LIMIT: u64 = 1 << 20;

/// `GET url` with `Authorization: Bearer <token>`, once. `Err` holds a reason for people that
/// never contains the token (it is not in the URL, and no error of the client carries a
/// header value).
pub fn get_bearer(url: &str, token: &Secret, timeout: Duration) -> Result<Answer, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        // 4xx and 5xx are answers (401 is "revoked"), not errors.
        .http_status_as_error(false)
        // A redirect would carry the token to wherever it points: never followed.
        .max_redirects(0)
        .user_agent(concat!("hfguard/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let header = Zeroizing::new(format!("Bearer {}", token.expose()));
    let mut response = agent
        .get(url)
        .header("Authorization", header.as_str())
        .call()
        .map_err(|e| reason(&e))?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .with_config()
        .limit(BODY_LIMIT)
        .read_to_string()
        .unwrap_or_default();
    Ok(Answer { status, body })
}

/// Why a request got no answer, in words; the client's own text only where it names no
/// value we sent.
fn reason(e: &ureq::Error) -> String {
    use ureq::Error;
    match e {
        Error::Timeout(_) => "no answer within the time limit".into(),
        Error::HostNotFound => "the host name does not resolve".into(),
        Error::ConnectionFailed => "cannot connect".into(),
        Error::Io(io) => match io.kind() {
            std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
            std::io::ErrorKind::TimedOut => "no answer within the time limit".into(),
            // rustls reports a failed handshake as invalid data on the stream.
            std::io::ErrorKind::InvalidData => {
                "the TLS connection failed (certificate or protocol)".into()
            }
            _ => format!("network error: {}", crate::fsread::reason(io)),
        },
        Error::Tls(_) | Error::Rustls(_) | Error::Pem(_) => {
            "the TLS connection failed (certificate or protocol)".into()
        }
        Error::BadUri(_) => "the endpoint is not a valid URL".into(),
        Error::InvalidProxyUrl => {
            "the proxy setting (HTTPS_PROXY, ALL_PROXY) is not a valid URL".into()
        }
        Error::Protocol(_) => "the server's answer is not valid HTTP".into(),
        _ => "the request failed".into(),
    }
}
