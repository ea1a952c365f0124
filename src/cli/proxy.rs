//! `webhook-harness proxy`: forward real deliveries to a receiver, judge and
//! record each exchange.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use clap::Args;

use super::args::TlsArgs;
use super::{exit, parse_duration, usage_error};
use crate::proxy::{Exchange, Proxy, ProxyConfig, Verdict};
use crate::recording::Recorder;
use crate::secret;

/// `proxy` arguments.
#[derive(Debug, Args)]
pub struct ProxyArgs {
    /// Address to listen on, where the sender (or your tunnel) connects.
    #[arg(long, default_value = "127.0.0.1:4000")]
    pub listen: SocketAddr,
    /// Your receiver. With a path (http://127.0.0.1:3000/webhook) every
    /// request goes to that path; without one (http://127.0.0.1:3000) each
    /// keeps its own. The query is kept either way.
    #[arg(long, value_name = "URL")]
    pub to: String,
    /// Record every delivery into DIR as a scenario `replay` and `run` execute.
    #[arg(long, value_name = "DIR")]
    pub record: Option<std::path::PathBuf>,
    /// Record the value of this credential header too (Authorization,
    /// Cookie, and any header named like a token, key, secret or password
    /// are recorded without their values by default); repeatable.
    #[arg(long, value_name = "NAME", requires = "record")]
    pub record_header: Vec<String>,
    /// Time the receiver has to answer (the sender's 30 s); after it the
    /// sender gets 504, as the real sender would have given up.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub timeout: std::time::Duration,
    /// Your receiver's webhook id (a secret), also read from
    /// WEBHOOK_HARNESS_WEBHOOK_ID: recordings then hide it wherever it
    /// appears, and record a request with another id as one to refuse.
    #[arg(long, env = "WEBHOOK_HARNESS_WEBHOOK_ID", hide_env_values = true)]
    pub webhook_id: Option<String>,
    /// Print webhook ids in full.
    #[arg(long)]
    pub show_secrets: bool,
    #[command(flatten)]
    pub tls: TlsArgs,
}

/// Counts for the closing summary, and the first delivery of each key.
#[derive(Default)]
struct Tally {
    exchanges: usize,
    deliveries: usize,
    statuses: BTreeMap<String, usize>,
    verdicts: Vec<(Verdict, usize)>,
    remarks: usize,
    first_of_key: std::collections::HashMap<String, u64>,
}

/// Keys remembered to name retries and duplicates (the oldest are forgotten
/// past this many, all at once).
const KEYS_REMEMBERED: usize = 100_000;

pub(super) async fn run(args: &ProxyArgs) -> i32 {
    if let Err(e) = crate::sender::url::ReceiverUrl::parse(&args.to) {
        let explained = e.explain(&args.to, "http://127.0.0.1:3000/webhook");
        return usage_error(format!("--to {explained}"));
    }
    let record = match &args.record {
        Some(dir) => match Recorder::new(dir, "proxy", args.webhook_id.clone())
            .map(|r| r.keeping_credentials(&args.record_header))
        {
            Ok(r) => Some(Arc::new(r)),
            Err(e) => return usage_error(format!("--record: {e}")),
        },
        None => None,
    };
    let tls = match args.tls.options() {
        Ok(t) => t,
        Err(code) => return code,
    };
    let config = ProxyConfig {
        to: args.to.clone(),
        sender: crate::sender::SenderConfig {
            timeout: args.timeout,
            retries: 0,
            readiness: false,
            tls,
            ..crate::sender::SenderConfig::default()
        },
        record,
    };
    let tally = Arc::new(Mutex::new(Tally::default()));
    let (show, to, counted) = (args.show_secrets, args.to.clone(), tally.clone());
    let known = args.webhook_id.clone();
    let proxy = match Proxy::start(args.listen, config, move |exchange| {
        let Ok(mut t) = counted.lock() else { return };
        let earlier = t.add(&exchange);
        let mut text = exchange_text(&exchange, &to, earlier);
        if !show {
            let ids = [known.as_deref(), exchange.inspection.webhook_id.as_deref()];
            for id in ids.into_iter().flatten().filter(|id| !id.is_empty()) {
                text = secret::redact(&text, id);
            }
        }
        crate::output::outln!("{}", crate::output::escape_controls(&text));
    })
    .await
    {
        Ok(p) => p,
        Err(crate::proxy::ProxyError::Listen(e)) => {
            let advice = match &e {
                crate::receiver::ServeError::PortInUse(_) => format!("{e} with --listen"),
                other => other.to_string(),
            };
            return usage_error(format!("--listen: {advice}"));
        }
        Err(e) => return usage_error(format!("--ca-cert: {e}")),
    };
    crate::output::outln!(
        "proxy: listening on http://{}, forwarding to {}{}",
        proxy.addr(),
        args.to,
        args.record
            .as_ref()
            .map(|d| format!(", recording deliveries in {}", d.display()))
            .unwrap_or_default()
    );
    crate::output::outln!("point the sender (or your tunnel) at it; Ctrl-C ends with a summary");
    let stop = super::stop_signal(None);
    stop.stopped().await;
    proxy.shutdown().await;
    if let Ok(t) = tally.lock() {
        crate::output::outln!("{}", t.summary());
    }
    exit::SUCCESS
}

impl Tally {
    /// Counts `exchange`; the number of an earlier delivery with its key.
    fn add(&mut self, exchange: &Exchange) -> Option<u64> {
        self.exchanges += 1;
        if exchange.method == "POST" {
            self.deliveries += 1;
        }
        let status = match exchange.status {
            Some(s) => format!("{}xx", s / 100),
            None => "no answer".to_owned(),
        };
        *self.statuses.entry(status).or_default() += 1;
        match self
            .verdicts
            .iter_mut()
            .find(|(v, _)| *v == exchange.verdict)
        {
            Some((_, n)) => *n += 1,
            None => self.verdicts.push((exchange.verdict, 1)),
        }
        self.remarks += exchange.inspection.remarks.len();
        let (key, number) = (exchange.inspection.key.as_ref()?, exchange.number?);
        if self.first_of_key.len() >= KEYS_REMEMBERED {
            self.first_of_key.clear();
        }
        let first = *self.first_of_key.entry(key.clone()).or_insert(number);
        (first != number).then_some(first)
    }

    fn summary(&self) -> String {
        let statuses: Vec<String> = self
            .statuses
            .iter()
            .map(|(s, n)| format!("{s} {n}"))
            .collect();
        let verdicts: Vec<String> = self
            .verdicts
            .iter()
            .map(|(v, n)| format!("{} {n}", v.name()))
            .collect();
        format!(
            "stopped: {} ({}); statuses: {}; verdicts: {}; {} about the sender's side",
            crate::result::count(self.exchanges, "exchange"),
            if self.deliveries == 1 {
                "1 delivery".to_owned()
            } else {
                format!("{} deliveries", self.deliveries)
            },
            if statuses.is_empty() {
                "none".to_owned()
            } else {
                statuses.join(", ")
            },
            if verdicts.is_empty() {
                "none".to_owned()
            } else {
                verdicts.join(", ")
            },
            crate::result::count(self.remarks, "remark"),
        )
    }
}

/// The lines for one exchange; `earlier`: the delivery with the same key.
fn exchange_text(exchange: &Exchange, to: &str, earlier: Option<u64>) -> String {
    let number = exchange
        .number
        .map(|n| format!("#{n:04} "))
        .unwrap_or_default();
    let what = match (&exchange.inspection.event, &exchange.inspection.key) {
        (Some(event), Some(key)) => format!(" {event} {key}"),
        (Some(event), None) => format!(" {event}"),
        _ => String::new(),
    };
    let took = crate::sender::format_duration(exchange.latency);
    let answer = match (&exchange.status, &exchange.failure) {
        (Some(status), _) => format!("{status} in {took}"),
        (None, Some(crate::sender::Failure::Timeout(_))) | (None, None) => {
            format!("no answer after {took}")
        }
        (None, Some(failure)) => format!("no answer after {took} ({failure})"),
    };
    let mut text = format!(
        "{number}{} {}{what} -> {answer}: {}",
        exchange.method,
        exchange.target,
        exchange.verdict.words()
    );
    if exchange.verdict == Verdict::Unreachable {
        text.push_str(&format!("; start your receiver, or check --to {to}"));
    }
    if let Some(first) = earlier {
        text.push_str(&format!(
            "\n      same key as #{first:04}: a retry or a duplicate"
        ));
    }
    for remark in &exchange.inspection.remarks {
        text.push_str(&format!("\n      sender: {remark} (informational)"));
    }
    match &exchange.recorded {
        Some(Ok(path)) => text.push_str(&format!("\n      recorded: {}", path.display())),
        Some(Err(e)) => text.push_str(&format!("\n      not recorded: {e}")),
        None => {}
    }
    text
}
