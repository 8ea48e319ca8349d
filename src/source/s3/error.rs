//! How an S3 error reads to people: one line with the service's code and
//! message, or the HTTP status, else the cause chain. Shared by the client
//! and the retry loop, which both report errors.

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

/// One line for an SDK error: the service's code and message (or the HTTP
/// status when the response has no body), else the cause chain.
pub fn describe<E>(e: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let line = match e {
        SdkError::ServiceError(s) => {
            let status = s.raw().status().as_u16();
            match (s.err().code(), s.err().message()) {
                (Some(code), Some(msg)) => format!("{code}: {msg} (HTTP {status})"),
                (Some(code), None) => format!("{code} (HTTP {status})"),
                _ => format!("HTTP {status}{}", status_hint(status)),
            }
        }
        _ => chain(e),
    };
    let mut line = line.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some(i) = line.find(" Attempted:") {
        line.truncate(i);
    }
    if line.to_ascii_lowercase().contains("credential") {
        format!("{line} (give credentials through the AWS chain or --profile, or use --no-sign-request for a public bucket)")
    } else {
        line
    }
}

fn status_hint(status: u16) -> &'static str {
    match status {
        301 => " (the bucket is in another region: give --bucket-region)",
        403 => " Forbidden (access denied)",
        404 => " Not Found",
        _ => "",
    }
}

/// An error and its sources, joined by `: `, without repeats.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let t = s.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        cur = s.source();
    }
    parts.join(": ")
}
