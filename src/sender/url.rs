//! Receiver URLs: absolute `http://` or `https://` URLs with a host, read by
//! one rule for every command (the sender, `load`'s connections, the effects
//! probe, `--serve`'s port, the command line's checks).
//!
//! Parsing is `http`'s URI parser (the one the HTTP stack speaks); on top of
//! it: the scheme must be `http` or `https`, the host must be there, the port
//! must be a number up to 65535 (empty: the scheme's), an IPv6 host must be
//! an IPv6 address, and a user name or password in the URL is refused (it
//! would be printed in every report). As the URL standard has it (and the
//! `url` crate, browsers and curl): spaces and control characters around the
//! URL are dropped, tabs and line breaks in it removed; in the path and in
//! the query, a space, a letter beyond ASCII and the few other characters a
//! request line cannot hold are percent-encoded (UTF-8), each part with the
//! standard's own set; a fragment (`#...`) is not sent.

use std::fmt;

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

/// What is percent-encoded in a path (besides every byte beyond ASCII):
/// the URL standard's path percent-encode set.
const PATH: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// What is percent-encoded in the query of an `http(s)` URL: the URL
/// standard's special-query percent-encode set.
const QUERY: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'\'');

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
    /// A host name with letters beyond ASCII.
    NonAsciiHost,
    /// Anything else the URI parser refused (a space in the host, brackets
    /// around what is not an IPv6 address).
    Malformed,
}

impl UrlError {
    /// The whole sentence for `url`: what is wrong, and what to write
    /// instead (`example`, a URL of the kind expected there).
    pub fn explain(&self, url: &str, example: &str) -> String {
        match self {
            UrlError::NoScheme => format!("`{url}` {self}: write http://{url} (or https://)"),
            UrlError::Credentials => format!("`{url}` {self}: give the URL without them"),
            UrlError::NotHttp { scheme } => format!(
                "`{url}` is not an http(s) URL (scheme `{scheme}`): give a URL such as {example}"
            ),
            _ => format!("`{url}` {self}: give a URL such as {example}"),
        }
    }
}

/// Words that follow the URL: "`URL` has no host".
impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlError::NoScheme => f.write_str("has no scheme"),
            UrlError::NotHttp { scheme } => {
                write!(f, "has the scheme `{scheme}`, not http or https")
            }
            UrlError::NoHost => f.write_str("has no host"),
            UrlError::BadPort => f.write_str("has a port that is not a number from 0 to 65535"),
            UrlError::Credentials => f.write_str(
                "has a user name or password in it (the harness sends no credentials from a URL: they would be printed in every report)",
            ),
            UrlError::NonAsciiHost => f.write_str(
                "has a host name with letters beyond ASCII (write it in its xn-- form)",
            ),
            UrlError::Malformed => f.write_str("is not a well-formed URL"),
        }
    }
}

impl std::error::Error for UrlError {}

impl ReceiverUrl {
    /// Parses `text`.
    pub fn parse(text: &str) -> Result<ReceiverUrl, UrlError> {
        let cleaned: String = text
            .trim_matches(|c: char| c <= ' ')
            .chars()
            .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
            .collect();
        let text = cleaned.as_str();
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
        // `scheme` is `http` or `https` (ASCII), so this is a char boundary.
        let after_scheme = &text[scheme.len() + 3..];
        let path_start = after_scheme.find(['/', '?']).unwrap_or(after_scheme.len());
        let (written_authority, rest) = after_scheme.split_at(path_start);
        if written_authority.is_empty() {
            return Err(UrlError::NoHost);
        }
        if written_authority.contains('@') {
            return Err(UrlError::Credentials);
        }
        if !written_authority.is_ascii() {
            return Err(UrlError::NonAsciiHost);
        }
        let (path, query) = match rest.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (rest, None),
        };
        let mut encoded = format!(
            "{scheme}://{written_authority}{}",
            utf8_percent_encode(path, PATH)
        );
        if let Some(query) = query {
            encoded.push('?');
            encoded.extend(utf8_percent_encode(query, QUERY));
        }
        let uri: http::Uri = encoded.parse().map_err(|_| UrlError::Malformed)?;
        let authority = uri.authority().ok_or(UrlError::NoHost)?;
        let host = authority.host();
        if host.is_empty() {
            return Err(UrlError::NoHost);
        }
        // What follows the host: nothing, or `:` and the port as written
        // (`Authority::port` says nothing of one that does not parse).
        let port = match authority.as_str().get(host.len()..) {
            Some("" | ":") => None,
            Some(after) => match after.strip_prefix(':') {
                Some(port) => Some(port.parse::<u16>().map_err(|_| UrlError::BadPort)?),
                None => return Err(UrlError::Malformed),
            },
            None => return Err(UrlError::Malformed),
        };
        let host = match host.strip_prefix('[') {
            Some(bracketed) => {
                let inner = bracketed.strip_suffix(']').ok_or(UrlError::Malformed)?;
                inner
                    .parse::<std::net::Ipv6Addr>()
                    .map_err(|_| UrlError::Malformed)?;
                inner
            }
            None => host,
        };
        let default_port = default_port(tls);
        Ok(ReceiverUrl {
            tls,
            host: host.to_ascii_lowercase(),
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
        self.port.unwrap_or(default_port(self.tls))
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
        ReceiverUrl {
            port: Some(port).filter(|p| *p != default_port(self.tls)),
            ..self.clone()
        }
    }
}

/// The port of `https` (443) or `http` (80).
fn default_port(tls: bool) -> u16 {
    if tls { 443 } else { 80 }
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
        let u = parsed("http://127.0.0.1/wébhook/a b{1}?q=x y&r={1}'é#frag");
        assert_eq!(
            u.path_and_query(),
            "/w%C3%A9bhook/a%20b%7B1%7D?q=x%20y&r={1}%27%C3%A9"
        );
        // Around the URL and in it, as the URL standard drops them.
        let u = parsed(" http://127.0.0.1/a\tb\n \r\n");
        assert_eq!(u.path_and_query(), "/ab");
        // An empty port is the scheme's.
        assert_eq!(parsed("http://127.0.0.1:/").port_or_default(), 80);
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
        assert_eq!(err("http://user:pw@127.0.0.1/"), UrlError::Credentials);
        assert_eq!(err("http://exa mple.com/"), UrlError::Malformed);
        assert_eq!(err("http://exämple.com/"), UrlError::NonAsciiHost);
        // What follows a bracketed host is a port or nothing; brackets hold
        // an IPv6 address.
        assert_eq!(err("http://[::1]8080/hook"), UrlError::Malformed);
        assert_eq!(err("http://[foo]/"), UrlError::Malformed);
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
            "http://[::1]:",
            "http://#",
            "http://?",
        ] {
            let _ = ReceiverUrl::parse(text);
        }
    }

    #[test]
    fn each_error_says_what_to_write() {
        let explain = |text: &str| {
            ReceiverUrl::parse(text)
                .unwrap_err()
                .explain(text, "http://127.0.0.1:3000/webhook")
        };
        assert_eq!(
            explain("127.0.0.1:3000"),
            "`127.0.0.1:3000` has no scheme: write http://127.0.0.1:3000 (or https://)"
        );
        assert!(explain("http://u:p@h/").ends_with(": give the URL without them"));
        assert_eq!(
            explain("ftp://h/"),
            "`ftp://h/` is not an http(s) URL (scheme `ftp`): give a URL such as http://127.0.0.1:3000/webhook"
        );
    }

    /// Up to 40 characters, a third of them those that end or split a URL's parts.
    fn url_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let special = proptest::sample::select(vec!['\t', '[', ']', ':', '@', '/', '?', '#', '%']);
        proptest::collection::vec(prop_oneof![2 => any::<char>(), 1 => special], 0..40)
            .prop_map(String::from_iter)
    }

    proptest::proptest! {
        #[test]
        fn no_text_makes_it_panic(rest in url_text()) {
            let _ = ReceiverUrl::parse(&rest);
            if let Ok(url) = ReceiverUrl::parse(&format!("http://{rest}")) {
                // What it prints, it reads back the same.
                proptest::prop_assert_eq!(ReceiverUrl::parse(&url.to_string()), Ok(url));
            }
        }
    }
}
