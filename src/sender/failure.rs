//! What went wrong with a request, as types: code decides on variants, and
//! the words come from `Display` (advice that names command-line flags is
//! added by the command line, see `cli::advice`).

use std::fmt;
use std::time::Duration;

use super::tls::NoSystemRoots;
use crate::duration::format as format_duration;

/// Why a request got no usable answer, or what was wrong with the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// Nothing listens there.
    Refused,
    /// Connecting failed otherwise (a name that does not resolve, an unreachable network).
    Connect(String),
    /// The receiver reset the connection.
    Reset,
    /// The receiver aborted the connection.
    Aborted,
    /// The receiver closed the connection while the request body was being
    /// sent, and no answer came.
    ClosedWhileSending,
    /// The connection closed before a complete response head.
    ClosedEarly,
    /// No complete response head within the time allowed.
    Timeout(Duration),
    /// The bytes that came back are not HTTP (`detail` from the parser).
    NotHttp(String),
    /// The TLS handshake failed.
    Tls(TlsReason),
    /// The request could not be built (bad URL, method or header).
    InvalidRequest(String),
    /// The response body stopped arriving until the timeout (status kept).
    BodyStalled {
        /// Bytes of the body read before it stalled.
        read: usize,
    },
    /// The response body broke off (status kept).
    BodyIncomplete {
        /// Bytes of the body read before it broke off.
        read: usize,
        /// What broke it off, e.g. a reset.
        cause: Box<Failure>,
    },
    /// The response body was longer than what is read (status kept).
    BodyTooLarge {
        /// The bytes read, at most.
        limit: usize,
    },
    /// The run was stopped (interrupted, out of time, receiver down) while
    /// this request was waiting: it tells nothing about the receiver.
    Cancelled,
    /// Anything else the HTTP stack reported.
    Other(String),
}

impl Failure {
    /// Whether the receiver gave no answer at all (as opposed to a bad one).
    /// A refused certificate or bytes that are not HTTP are answers of a
    /// kind: the receiver is there, and the failure's own words say what to
    /// fix, so the watchdog never calls such a receiver "stopped answering".
    pub fn is_no_answer(&self) -> bool {
        !matches!(
            self,
            Failure::BodyStalled { .. }
                | Failure::BodyIncomplete { .. }
                | Failure::BodyTooLarge { .. }
                | Failure::Cancelled
                | Failure::InvalidRequest(_)
                | Failure::Tls(_)
                | Failure::NotHttp(_)
        )
    }

    /// Whether the harness cannot talk to anything at the address: refused,
    /// no connection could be made, a plain HTTP server behind an
    /// `https://` URL, or no CA certificates on this machine to check an
    /// HTTPS server with. Nothing then says anything about the receiver.
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            Failure::Refused
                | Failure::Connect(_)
                | Failure::Tls(TlsReason::PlainHttp | TlsReason::NoSystemRoots(_))
        )
    }
}

impl Failure {
    /// Whether nothing can be sent to the receiver at all: it cannot be
    /// reached ([`Failure::is_unreachable`]), or its TLS handshake fails
    /// (a certificate not trusted, a host name it does not name), which
    /// every request would meet the same way. A run stops on it at once,
    /// with what to do, rather than fail every case after its retries.
    pub fn stops_a_run(&self) -> bool {
        self.is_unreachable() || matches!(self, Failure::Tls(_))
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Refused => f.write_str("connection refused"),
            Failure::Connect(detail) => write!(f, "could not connect: {detail}"),
            Failure::Reset => f.write_str("connection reset by the receiver"),
            Failure::Aborted => f.write_str("connection aborted by the receiver"),
            Failure::ClosedWhileSending => {
                f.write_str("connection closed while the request body was being sent")
            }
            Failure::ClosedEarly => f.write_str("connection closed before a complete response"),
            Failure::Timeout(after) => write!(f, "no response within {}", format_duration(*after)),
            Failure::NotHttp(detail) => write!(f, "not a valid HTTP response ({detail})"),
            Failure::Tls(reason) => write!(f, "{reason}"),
            Failure::InvalidRequest(detail) => f.write_str(detail),
            Failure::BodyStalled { read } => write!(
                f,
                "response body incomplete: stalled after {read} bytes until the timeout"
            ),
            Failure::BodyIncomplete { read, cause } => {
                write!(f, "response body incomplete after {read} bytes: {cause}")
            }
            Failure::BodyTooLarge { limit } => write!(
                f,
                "response body exceeded {} KiB, not read further",
                limit / 1024
            ),
            Failure::Cancelled => f.write_str("not sent to the end: the run was stopped"),
            Failure::Other(detail) => f.write_str(detail),
        }
    }
}

/// Why a TLS handshake failed, in the terms a receiver author acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsReason {
    /// The certificate is not signed by a trusted CA.
    UnknownIssuer {
        /// Whether a CA file was given (so the advice is not to give one).
        ca_file_given: bool,
    },
    /// The certificate has expired (or is not valid yet).
    Expired,
    /// The certificate is not valid yet.
    NotValidYet,
    /// The certificate does not name the host in the URL.
    WrongHost,
    /// A CA certificate (`CA:TRUE`) is used as the server's certificate and
    /// is not itself among the trusted certificates.
    CaUsedAsServerCertificate,
    /// The certificate could not be decoded.
    BadCertificate,
    /// The certificate was rejected for another reason (named).
    OtherCertificate(String),
    /// The server answered in plain HTTP on an `https://` URL.
    PlainHttp,
    /// No CA file was given and the system's CA certificates could not be
    /// loaded (none installed: a slim container), so nothing can be trusted.
    NoSystemRoots(String),
    /// The handshake failed for another reason (named).
    Handshake(String),
}

impl fmt::Display for TlsReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsReason::UnknownIssuer {
                ca_file_given: false,
            } => f.write_str(
                "TLS certificate not accepted: unknown issuer (not signed by a CA the system trusts)",
            ),
            TlsReason::UnknownIssuer {
                ca_file_given: true,
            } => f.write_str(
                "TLS certificate not accepted: unknown issuer (neither signed by a CA in the given CA file nor identical to a certificate in it)",
            ),
            TlsReason::Expired => f.write_str("TLS certificate not accepted: it has expired"),
            TlsReason::NotValidYet => {
                f.write_str("TLS certificate not accepted: it is not valid yet (check the clock)")
            }
            TlsReason::WrongHost => f.write_str(
                "TLS certificate not accepted: it does not name the host in the URL (wrong host name)",
            ),
            TlsReason::CaUsedAsServerCertificate => f.write_str(
                "TLS certificate not accepted: the server presents a CA certificate (CA:TRUE) as its own",
            ),
            TlsReason::BadCertificate => {
                f.write_str("TLS certificate not accepted: it could not be decoded")
            }
            TlsReason::OtherCertificate(why) => {
                write!(f, "TLS certificate not accepted: {why}")
            }
            TlsReason::PlainHttp => f.write_str(
                "TLS handshake failed: the server at this port speaks plain HTTP, not HTTPS",
            ),
            TlsReason::NoSystemRoots(why) => write!(
                f,
                "TLS certificate not checked: this system has no CA certificates to check it against ({why})"
            ),
            TlsReason::Handshake(why) => write!(f, "TLS handshake failed: {why}"),
        }
    }
}

impl TlsReason {
    /// What the user can do, in words without flags.
    pub fn remedy(&self) -> &'static str {
        match self {
            TlsReason::UnknownIssuer {
                ca_file_given: false,
            } => {
                "trust the CA that signed it (or the self-signed certificate itself), or skip verification for a development receiver"
            }
            TlsReason::UnknownIssuer {
                ca_file_given: true,
            } => {
                "put the CA that signed the server's certificate (or the server's own self-signed certificate) in the CA file"
            }
            TlsReason::Expired | TlsReason::NotValidYet => "renew the server's certificate",
            TlsReason::WrongHost => {
                "use the host name the certificate names (e.g. localhost), or add this host to its subjectAltName"
            }
            TlsReason::CaUsedAsServerCertificate => {
                "trust that very certificate (give it as the CA file), or serve a leaf certificate signed by the CA"
            }
            TlsReason::BadCertificate | TlsReason::OtherCertificate(_) => {
                "check the server's certificate"
            }
            TlsReason::PlainHttp => "use http:// for this receiver",
            TlsReason::NoSystemRoots(_) => {
                "install the system's CA certificates (the ca-certificates package), or trust the receiver's CA or self-signed certificate as a CA file"
            }
            TlsReason::Handshake(_) => "check that the port serves HTTPS",
        }
    }

    /// Plain words for a rustls error.
    pub fn of_rustls(error: &tokio_rustls::rustls::Error, ca_file_given: bool) -> TlsReason {
        use tokio_rustls::rustls::{CertificateError, Error};
        match error {
            Error::InvalidCertificate(cert) => match cert {
                CertificateError::UnknownIssuer => TlsReason::UnknownIssuer { ca_file_given },
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                    TlsReason::Expired
                }
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                    TlsReason::NotValidYet
                }
                CertificateError::NotValidForName
                | CertificateError::NotValidForNameContext { .. } => TlsReason::WrongHost,
                CertificateError::BadEncoding => TlsReason::BadCertificate,
                CertificateError::Other(other) => match other.0.downcast_ref::<webpki::Error>() {
                    Some(webpki::Error::CaUsedAsEndEntity) => TlsReason::CaUsedAsServerCertificate,
                    Some(e) => TlsReason::OtherCertificate(format!("{e}")),
                    None => TlsReason::OtherCertificate(other.to_string()),
                },
                other => TlsReason::OtherCertificate(format!("{other}")),
            },
            Error::InvalidMessage(tokio_rustls::rustls::InvalidMessage::InvalidContentType) => {
                TlsReason::PlainHttp
            }
            Error::Other(other) => match other.0.downcast_ref::<NoSystemRoots>() {
                Some(NoSystemRoots(why)) => TlsReason::NoSystemRoots(why.clone()),
                None => TlsReason::Handshake(error.to_string()),
            },
            other => TlsReason::Handshake(other.to_string()),
        }
    }
}

impl Failure {
    /// The failure behind a transport error, found by type in its causes.
    pub(crate) fn of_error(e: &(dyn std::error::Error + 'static), ca_file_given: bool) -> Failure {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
        while let Some(err) = source {
            if let Some(io) = err.downcast_ref::<std::io::Error>() {
                // io::Error hides a custom inner error from `source()`: look at it directly.
                if let Some(tls) = tls_error_in(io) {
                    return Failure::Tls(TlsReason::of_rustls(tls, ca_file_given));
                }
                use std::io::ErrorKind::*;
                match io.kind() {
                    ConnectionRefused => return Failure::Refused,
                    ConnectionReset => return Failure::Reset,
                    ConnectionAborted => return Failure::Aborted,
                    BrokenPipe => return Failure::ClosedWhileSending,
                    UnexpectedEof => return Failure::ClosedEarly,
                    _ => {}
                }
            }
            if let Some(tls) = err.downcast_ref::<tokio_rustls::rustls::Error>() {
                return Failure::Tls(TlsReason::of_rustls(tls, ca_file_given));
            }
            if let Some(h) = err.downcast_ref::<hyper::Error>() {
                if h.is_incomplete_message() {
                    return Failure::ClosedEarly;
                }
                if h.is_parse() || h.is_parse_status() {
                    return Failure::NotHttp(h.to_string());
                }
            }
            source = err.source();
        }
        Failure::Other(chain(e))
    }
}

/// The TLS error inside (possibly nested) I/O errors.
fn tls_error_in(io: &std::io::Error) -> Option<&tokio_rustls::rustls::Error> {
    let inner = io.get_ref()?;
    if let Some(tls) = inner.downcast_ref::<tokio_rustls::rustls::Error>() {
        return Some(tls);
    }
    inner
        .downcast_ref::<std::io::Error>()
        .and_then(tls_error_in)
}

/// An error and its causes, joined.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(err) = source {
        let text = err.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = err.source();
    }
    out
}
