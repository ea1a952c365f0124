//! Receiver URLs: absolute `http://` or `https://` URLs with a host, read by
//! one rule for every command (the sender, `load`'s connections, the effects
//! probe, `--serve`'s port, the command line's checks).
//!
//! Parsing is `http`'s URI parser (the one the HTTP stack speaks); on top of
//! it: the scheme must be `http` or `https`, the host must be there, the port
//! must be a number up to 65535, and a user name or password in the URL is
//! refused (nothing would send it). In the path and query, a space, a
//! letter beyond ASCII and the few other characters a request line cannot
//! hold are percent-encoded (UTF-8), as browsers and curl do; a fragment
//! (`#...`) is not sent.

use std::fmt;

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

/// What is percent-encoded in a path or query (besides every byte beyond
/// ASCII): the URL standard's path set.
const ENCODED: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'<')
    .add(b'>')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// A parsed receiver URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiverUrl {
    tls: bool,
    /// The host as written, lower case; an IPv6 address without brackets.
    host: String,
    /// The port written in the URL, when it is not the scheme's default.
    port: Option<u16>,
    /// Path and query (`/` at least).
    path_and_query: String,
}

/// Why a text is not a receiver URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlError {
    /// No `scheme://` at all (`127.0.0.1:3000/webhook`).
    NoScheme,
    /// A scheme other than `http` or `https`.
    NotHttp {
        /// The scheme written.
        scheme: String,
    },
    /// No host after `://`.
    NoHost,
    /// A port that is not a number from 0 to 65535.
    BadPort,
    /// A user name or password before the host.
    Credentials,
    /// Anything else the URI parser refused (a space in the host, a host
    /// name with letters beyond ASCII).
    Malformed,
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlError::NoScheme => f.write_str("it has no scheme"),
            UrlError::NotHttp { scheme } => write!(f, "scheme `{scheme}`, not http or https"),
            UrlError::NoHost => f.write_str("it has no host"),
            UrlError::BadPort => f.write_str("its port is not a number from 0 to 65535"),
            UrlError::Credentials => f.write_str(
                "it has a user name or password in it, which the sender would not send",
            ),
            UrlError::Malformed => f.write_str(
                "it is not a well-formed URL (a host name with letters beyond ASCII is written in its xn-- form)",
            ),
        }
    }
}

impl std::error::Error for UrlError {}

impl ReceiverUrl {
    /// Parses `text`.
    pub fn parse(text: &str) -> Result<ReceiverUrl, UrlError> {
        let Some((scheme, _)) = text.split_once("://") else {
            return Err(UrlError::NoScheme);
        };
        let tls = if scheme.eq_ignore_ascii_case("http") {
            false
        } else if scheme.eq_ignore_ascii_case("https") {
            true
        } else {
            return Err(UrlError::NotHttp {
                scheme: scheme.to_owned(),
            });
        };
        let text = text.split_once('#').map_or(text, |(before, _)| before);
        let after_scheme = &text[scheme.len() + 3..];
        let path_start = after_scheme.find(['/', '?']).unwrap_or(after_scheme.len());
        let (authority, path) = after_scheme.split_at(path_start);
        let encoded = format!(
            "{scheme}://{authority}{}",
            utf8_percent_encode(path, ENCODED)
        );
        let uri: http::Uri = encoded.parse().map_err(|_| {
            // The URI parser's own words are terse; say which part is wrong
            // when it is one of those that are easy to get wrong.
            if authority.is_empty() {
                UrlError::NoHost
            } else if authority.contains('@') {
                UrlError::Credentials
            } else {
                UrlError::Malformed
            }
        })?;
        let authority = uri.authority().ok_or(UrlError::NoHost)?;
        if authority.as_str().contains('@') {
            return Err(UrlError::Credentials);
        }
        let host = authority.host();
        if host.is_empty() {
            return Err(UrlError::NoHost);
        }
        // The port as written (`Authority::port` says nothing of one that
        // does not parse).
        let port = match authority.as_str()[host.len()..].strip_prefix(':') {
            None => None,
            Some(port) => Some(port.parse::<u16>().map_err(|_| UrlError::BadPort)?),
        };
        let default_port = if tls { 443 } else { 80 };
        Ok(ReceiverUrl {
            tls,
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_ascii_lowercase(),
            port: port.filter(|p| *p != default_port),
            path_and_query: match (uri.path(), uri.query()) {
                ("", None) => "/".to_owned(),
                ("", Some(query)) => format!("/?{query}"),
                (path, None) => path.to_owned(),
                (path, Some(query)) => format!("{path}?{query}"),
            },
        })
    }

    /// Whether it is an `https://` URL.
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// The host, lower case; an IPv6 address without brackets.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port written in the URL, unless it is the scheme's default.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The port connected to.
    pub fn port_or_default(&self) -> u16 {
        self.port.unwrap_or(if self.tls { 443 } else { 80 })
    }

    /// Path and query, as in the request line (`/webhook?x=1`).
    pub fn path_and_query(&self) -> &str {
        &self.path_and_query
    }

    /// The host as written in a URL or `Host` header: an IPv6 address in brackets.
    fn host_in_url(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        }
    }

    /// `host:port` to connect to.
    pub fn authority(&self) -> String {
        format!("{}:{}", self.host_in_url(), self.port_or_default())
    }

    /// The `Host` header: the port only when it is not the scheme's default.
    pub fn host_header(&self) -> String {
        match self.port {
            Some(port) => format!("{}:{port}", self.host_in_url()),
            None => self.host_in_url(),
        }
    }

    /// The same URL with another port.
    pub fn with_port(&self, port: u16) -> ReceiverUrl {
        let default_port = if self.tls { 443 } else { 80 };
        ReceiverUrl {
            port: Some(port).filter(|p| *p != default_port),
            ..self.clone()
        }
    }
}

impl fmt::Display for ReceiverUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "https" } else { "http" };
        write!(
            f,
            "{scheme}://{}{}",
            self.host_header(),
            self.path_and_query
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> ReceiverUrl {
        ReceiverUrl::parse(text).unwrap()
    }

    #[test]
    fn parts_of_a_receiver_url() {
        let u = parsed("http://127.0.0.1:3000/webhook?x=1");
        assert!(!u.is_tls());
        assert_eq!(u.host(), "127.0.0.1");
        assert_eq!(u.port(), Some(3000));
        assert_eq!(u.authority(), "127.0.0.1:3000");
        assert_eq!(u.host_header(), "127.0.0.1:3000");
        assert_eq!(u.path_and_query(), "/webhook?x=1");
        assert_eq!(u.to_string(), "http://127.0.0.1:3000/webhook?x=1");

        let u = parsed("HTTPS://Example.COM");
        assert!(u.is_tls());
        assert_eq!(u.host(), "example.com");
        assert_eq!(u.port(), None);
        assert_eq!(u.authority(), "example.com:443");
        assert_eq!(u.path_and_query(), "/");

        // The scheme's default port is not written in the Host header.
        let u = parsed("http://localhost:80/a");
        assert_eq!(u.port(), None);
        assert_eq!(u.host_header(), "localhost");
        assert_eq!(u.authority(), "localhost:80");

        let u = parsed("http://[::1]:8080/h");
        assert_eq!(u.host(), "::1");
        assert_eq!(u.authority(), "[::1]:8080");
        assert_eq!(u.host_header(), "[::1]:8080");
        assert_eq!(u.to_string(), "http://[::1]:8080/h");
    }

    #[test]
    fn what_a_request_line_cannot_hold_is_percent_encoded() {
        let u = parsed("http://127.0.0.1/wébhook/a b?q=x y&r={1}#frag");
        assert_eq!(u.path_and_query(), "/w%C3%A9bhook/a%20b?q=x%20y&r=%7B1%7D");
        // Already encoded stays as it is.
        let u = parsed("http://127.0.0.1/a%20b?k=%2F");
        assert_eq!(u.path_and_query(), "/a%20b?k=%2F");
        let u = parsed("http://127.0.0.1?k=1");
        assert_eq!(u.path_and_query(), "/?k=1");
    }

    #[test]
    fn port_zero_and_another_port() {
        let u = parsed("http://127.0.0.1:0/webhook");
        assert_eq!(u.port(), Some(0));
        assert_eq!(
            u.with_port(4321).to_string(),
            "http://127.0.0.1:4321/webhook"
        );
        assert_eq!(u.with_port(80).to_string(), "http://127.0.0.1/webhook");
    }

    #[test]
    fn what_is_refused_and_why() {
        let err = |t: &str| ReceiverUrl::parse(t).unwrap_err();
        assert_eq!(err("127.0.0.1:3000/webhook"), UrlError::NoScheme);
        assert_eq!(
            err("ftp://x/"),
            UrlError::NotHttp {
                scheme: "ftp".into()
            }
        );
        assert_eq!(err("http:///webhook"), UrlError::NoHost);
        assert_eq!(err("http://"), UrlError::NoHost);
        assert_eq!(err("http://127.0.0.1:99999/"), UrlError::BadPort);
        assert_eq!(err("http://127.0.0.1:x/"), UrlError::BadPort);
        assert_eq!(err("http://127.0.0.1:/"), UrlError::BadPort);
        assert_eq!(err("http://user:pw@127.0.0.1/"), UrlError::Credentials);
        assert_eq!(err("http://exa mple.com/"), UrlError::Malformed);
        assert_eq!(err("http://exämple.com/"), UrlError::Malformed);
    }

    #[test]
    fn never_panics_on_any_text() {
        for text in [
            "",
            "://",
            "http://:",
            "http://[",
            "http://[::1",
            "https://@",
            "http://a:65536",
        ] {
            let _ = ReceiverUrl::parse(text);
        }
    }
}
