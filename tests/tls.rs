//! HTTPS targets: a certificate made at test time by a private CA; trusted
//! with --ca-cert, refused (in words) without it, accepted with --insecure.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use webhook_harness::event::{Event, EventKind};
use webhook_harness::load::{self, LoadConfig, Mix, Until};
use webhook_harness::receiver::{Receiver, ReceiverConfig};
use webhook_harness::sender::{
    DeliveryResult, Failure, Sender, SenderConfig, TlsOptions, TlsReason,
};

const BIN: &str = env!("CARGO_BIN_EXE_webhook-harness");

struct Pki {
    dir: PathBuf,
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn pki(name: &str) -> Pki {
    let dir = std::env::temp_dir().join(format!("wh-tls-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    let write = |file: &str, text: String| {
        let path = dir.join(file);
        std::fs::write(&path, text).unwrap();
        path
    };
    Pki {
        ca: write("ca.pem", ca.pem()),
        cert: write("cert.pem", leaf.pem()),
        key: write("key.pem", leaf_key.serialize_pem()),
        dir,
    }
}

async fn tls_receiver(pki: &Pki) -> Receiver {
    let config = ReceiverConfig {
        tls: Some((pki.cert.clone(), pki.key.clone())),
        ..ReceiverConfig::default()
    };
    Receiver::start_local(config).await.unwrap()
}

fn sender(ca_cert: Option<&Path>, insecure: bool) -> Sender {
    Sender::new(SenderConfig {
        timeout: Duration::from_secs(5),
        retries: 0,
        tls: TlsOptions {
            ca_cert: ca_cert.map(Path::to_path_buf),
            insecure,
        },
        ..SenderConfig::default()
    })
    .unwrap()
}

#[tokio::test]
async fn ca_cert_trusts_insecure_accepts_and_nothing_refuses_in_words() {
    let pki = pki("lib");
    let receiver = tls_receiver(&pki).await;
    assert!(receiver.url().starts_with("https://"));
    let event = Event::builder(EventKind::GenerationCompleted)
        .unique_ids()
        .build()
        .unwrap();

    let trusted = sender(Some(&pki.ca), false)
        .deliver(&receiver.url(), &event)
        .await;
    assert!(trusted.delivered(), "{:?}", trusted.attempts);
    assert_eq!(receiver.effects().get(event.key().unwrap()).effects, 1);

    let untrusted = sender(None, false).deliver(&receiver.url(), &event).await;
    assert_eq!(untrusted.result, DeliveryResult::GaveUp);
    let said = untrusted.attempts[0].failure.as_ref().unwrap().to_string();
    assert!(
        said.contains("TLS certificate not accepted") && said.contains("unknown issuer"),
        "{said}"
    );

    let insecure = sender(None, true).deliver(&receiver.url(), &event).await;
    assert!(insecure.delivered());
}

#[tokio::test]
async fn load_goes_over_https_too() {
    let pki = pki("load");
    let receiver = tls_receiver(&pki).await;
    let report = load::run(
        LoadConfig {
            url: receiver.url(),
            webhook_id: "wh".into(),
            concurrency: 4,
            rate: None,
            until: Until::Deliveries(50),
            mix: Mix::default(),
            duplicates: 0.1,
            sizes: Default::default(),
            sender: SenderConfig {
                tls: TlsOptions {
                    ca_cert: Some(pki.ca.clone()),
                    insecure: false,
                },
                ..SenderConfig::default()
            },
            effects_url: Some(receiver.effects_url()),
            unanswered_window: Duration::from_secs(10),
            stop: Default::default(),
            hdr_log: None,
            ..Default::default()
        },
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(report.failed, 0, "{report:?}");
    assert!(report.violations.is_empty());
}

/// A child process killed when dropped, even when an assertion fails.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn receive_and_send_over_https_as_processes() {
    let pki = pki("cli");
    // Port 0, and the port read back from the receiver's first line.
    let mut child = Command::new(BIN)
        .args(["receive", "--port", "0"])
        .args([
            "--tls-cert",
            pki.cert.to_str().unwrap(),
            "--tls-key",
            pki.key.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().unwrap()));
    let first = lines.next().unwrap().unwrap();
    let listening = first.strip_prefix("Listening on ").unwrap().to_owned();
    std::thread::spawn(move || for _ in lines {});
    let _receiver = Killed(child);
    let port = listening
        .rsplit_once(':')
        .and_then(|(_, rest)| rest.split('/').next())
        .unwrap()
        .to_owned();
    let url = format!("https://127.0.0.1:{port}/webhook");
    let no_roots = std::env::temp_dir().join(format!("wh-no-roots-{}", std::process::id()));
    std::fs::create_dir_all(&no_roots).unwrap();
    let send_with = |extra: &[&str], system_roots: bool| {
        let mut command = Command::new(BIN);
        if !system_roots {
            // A system without CA certificates, as a slim container is.
            command
                .env("SSL_CERT_FILE", no_roots.join("none.pem"))
                .env("SSL_CERT_DIR", &no_roots);
        }
        let out = command
            .args([
                "send",
                "generation",
                "--url",
                &url,
                "--retries",
                "0",
                "--timeout",
                "5s",
            ])
            .args(extra)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let send = |extra: &[&str]| send_with(extra, true);
    let mut ok = (-1, String::new(), String::new());
    for _ in 0..50 {
        ok = send(&["--ca-cert", pki.ca.to_str().unwrap()]);
        if ok.0 == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(ok.0, 0, "{}{}", ok.1, ok.2);
    let refused = send(&[]);
    assert_eq!(refused.0, 1);
    assert!(
        refused.1.contains("TLS certificate not accepted"),
        "{}",
        refused.1
    );
    let insecure = send(&["--insecure"]);
    assert_eq!(insecure.0, 0);
    assert!(insecure.2.contains("warning: --insecure"), "{}", insecure.2);
    let missing = send(&["--ca-cert", "/no/such/ca.pem"]);
    assert_eq!(missing.0, 2);
    assert!(
        missing
            .2
            .contains("--ca-cert: cannot read the CA file /no/such/ca.pem"),
        "{}",
        missing.2
    );
    // Without system roots: a CA file still works, the default check says
    // what is missing, and a plain-HTTP run needs no roots at all.
    let given = send_with(&["--ca-cert", pki.ca.to_str().unwrap()], false);
    assert_eq!(given.0, 0, "{}{}", given.1, given.2);
    let none = send_with(&[], false);
    assert_eq!(none.0, 1, "{}{}", none.1, none.2);
    assert!(
        none.1
            .contains("this system has no CA certificates to check it against")
            && none.1.contains("install the system's CA certificates"),
        "{}",
        none.1
    );
    // The other commands stop before anything runs: no case, finding or
    // load figure may blame the receiver for the machine's missing roots.
    for command in [
        &["run", "--url", url.as_str()][..],
        &["fuzz", "--cases", "5", "--url", url.as_str()],
        &["load", "--deliveries", "5", "--url", url.as_str()],
    ] {
        let out = Command::new(BIN)
            .args(command)
            .env("SSL_CERT_FILE", no_roots.join("none.pem"))
            .env("SSL_CERT_DIR", &no_roots)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{command:?}: {err}");
        assert!(
            err.contains("this system has no CA certificates to check it against")
                && err.contains("--ca-cert FILE"),
            "{command:?}: {err}"
        );
    }
    let plain = Command::new(BIN)
        .args(["run", "--filter", "events.webhook-test"])
        .env("SSL_CERT_FILE", no_roots.join("none.pem"))
        .env("SSL_CERT_DIR", &no_roots)
        .output()
        .unwrap();
    assert!(
        plain.status.success(),
        "{}{}",
        String::from_utf8_lossy(&plain.stdout),
        String::from_utf8_lossy(&plain.stderr)
    );
    let _ = std::fs::remove_dir_all(&no_roots);
}

/// A self-signed certificate with `CA:TRUE`, as `openssl req -x509` makes it.
fn self_signed(dir: &Path, name: &str, sans: &[&str], expired: bool) -> (PathBuf, PathBuf) {
    std::fs::create_dir_all(dir).unwrap();
    let key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    if expired {
        params.not_before = rcgen::date_time_ymd(2000, 1, 1);
        params.not_after = rcgen::date_time_ymd(2001, 1, 1);
    }
    let cert = params.self_signed(&key).unwrap();
    let cert_path = dir.join(format!("{name}.pem"));
    let key_path = dir.join(format!("{name}.key"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    (cert_path, key_path)
}

async fn receiver_with(cert: &Path, key: &Path) -> Receiver {
    Receiver::start_local(ReceiverConfig {
        tls: Some((cert.to_path_buf(), key.to_path_buf())),
        ..ReceiverConfig::default()
    })
    .await
    .unwrap()
}

/// The failure of one delivery with `--ca-cert ca` to `url`.
async fn refusal(url: &str, ca: &Path) -> Failure {
    let event = Event::builder(EventKind::GenerationCompleted)
        .unique_ids()
        .build()
        .unwrap();
    let delivery = sender(Some(ca), false).deliver(url, &event).await;
    assert!(!delivery.delivered(), "{:?}", delivery.attempts);
    delivery.attempts[0].failure.clone().unwrap()
}

#[tokio::test]
async fn the_usual_self_signed_certificate_is_trusted_as_itself() {
    let dir = std::env::temp_dir().join(format!("wh-selfsigned-{}", std::process::id()));
    let (cert, key) = self_signed(&dir, "localhost", &["localhost", "127.0.0.1"], false);
    let receiver = receiver_with(&cert, &key).await;
    let event = Event::builder(EventKind::GenerationCompleted)
        .unique_ids()
        .build()
        .unwrap();
    for host in ["localhost", "127.0.0.1"] {
        let url = format!("https://{host}:{}/webhook", receiver.addr().port());
        let delivery = sender(Some(&cert), false).deliver(&url, &event).await;
        assert!(delivery.delivered(), "{host}: {:?}", delivery.attempts);
    }

    // Another certificate in the file: still refused, in words.
    let (other, _) = self_signed(&dir, "other", &["localhost"], false);
    let failure = refusal(&receiver.url(), &other).await;
    let said = failure.to_string();
    assert!(
        matches!(
            failure,
            Failure::Tls(TlsReason::CaUsedAsServerCertificate | TlsReason::UnknownIssuer { .. })
        ),
        "{failure:?}"
    );
    assert!(
        !said.contains("Other(") && !said.contains("Error("),
        "{said}"
    );

    // The host name is still checked.
    let (named, named_key) = self_signed(&dir, "named", &["localhost"], false);
    let named_receiver = receiver_with(&named, &named_key).await;
    let by_ip = format!("https://127.0.0.1:{}/webhook", named_receiver.addr().port());
    let failure = refusal(&by_ip, &named).await;
    assert_eq!(failure, Failure::Tls(TlsReason::WrongHost), "{failure}");
    assert!(failure.to_string().contains("wrong host name"));

    // An expired certificate says so.
    let (old, old_key) = self_signed(&dir, "old", &["localhost"], true);
    let old_receiver = receiver_with(&old, &old_key).await;
    let pki = pki("expired");
    let failure = refusal(
        &old_receiver.url().replace("127.0.0.1", "localhost"),
        &pki.ca,
    )
    .await;
    assert!(
        matches!(
            failure,
            Failure::Tls(TlsReason::Expired | TlsReason::CaUsedAsServerCertificate)
        ),
        "{failure:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_plain_http_server_behind_https_is_named() {
    let receiver = Receiver::start_local(ReceiverConfig::default())
        .await
        .unwrap();
    let url = receiver.url().replace("http://", "https://");
    let event = Event::builder(EventKind::GenerationCompleted)
        .unique_ids()
        .build()
        .unwrap();
    let delivery = sender(None, false).deliver(&url, &event).await;
    let failure = delivery.attempts[0].failure.clone().unwrap();
    assert_eq!(failure, Failure::Tls(TlsReason::PlainHttp), "{failure}");
}

#[test]
fn a_served_https_receiver_is_waited_for_and_an_untrusted_certificate_stops_the_run() {
    let pki = pki("serve");
    let dir = pki.dir.clone();
    let serve = format!(
        "exec {BIN} receive --port $PORT --tls-cert {} --tls-key {}",
        pki.cert.display(),
        pki.key.display()
    );
    let run = |extra: &[&str]| {
        let out = Command::new(BIN)
            .args([
                "run",
                "--url",
                "https://localhost:0/webhook",
                "--serve",
                &serve,
            ])
            .args(["--serve-timeout", "60s", "--filter", "events.webhook-test"])
            .args(extra)
            .current_dir(&dir)
            .env_remove("CI")
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    // Trusted, or not checked: the receiver is seen up, and tested.
    let (code, said) = run(&["--ca-cert", pki.ca.to_str().unwrap()]);
    assert_eq!(code, 0, "{said}");
    let (code, said) = run(&["--insecure"]);
    assert_eq!(code, 0, "{said}");
    // Not trusted: up all the same (no wait for the serve timeout), and the
    // run stops at once with the refusal and what to do, instead of
    // failing every case after its retries.
    let (code, said) = run(&[]);
    assert_eq!(code, 3, "{said}");
    assert!(!said.contains("did not answer within"), "{said}");
    assert!(
        said.contains("cannot test https://localhost:")
            && said.contains("TLS certificate not accepted: unknown issuer")
            && said.contains("--ca-cert FILE"),
        "{said}"
    );
}
