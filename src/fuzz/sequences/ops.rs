//! The operations of a sequence, how proptest generates them, and the
//! scenario a sequence is: the runner runs that scenario, so what was
//! tested and the reproducer written are one text.

use std::fmt::Write as _;
use std::time::Duration;

use proptest::prelude::*;

use crate::contract::RetryPolicy;
use crate::event::{Dialect, EventKind};

/// Distinct keys (events) one sequence uses: few, so that the same key
/// comes back often.
pub const SLOTS: usize = 2;

/// How many other deliveries may come between two copies of a key, fewest
/// first: a dedupe cache bounded at fewer keys than the largest (1,100) has
/// forgotten it.
pub const OTHERS: [usize; 3] = [10, 100, 1_100];

/// The events a sequence delivers, and the payload of each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    /// The event.
    pub event: EventKind,
    /// Its dialect.
    pub dialect: Dialect,
    /// Whether the generation (every group member) failed.
    pub failed: bool,
    /// Generations in the group (group events).
    pub group_size: usize,
}

/// How long a `wait` operation waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pause {
    /// A moment.
    Short,
    /// As long as the sender's last retry comes after the first attempt
    /// (the contract's backoff: 1 + 2 + 4 s): a late retry.
    LastRetry,
}

impl Pause {
    /// The pause.
    pub fn duration(self) -> Duration {
        match self {
            Pause::Short => Duration::from_millis(100),
            Pause::LastRetry => RetryPolicy::CONTRACT.last_retry_after(),
        }
    }
}

/// One operation of a sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Delivers slot `slot`'s event (again, when it was delivered before).
    Deliver {
        /// Which slot (modulo [`SLOTS`]).
        slot: usize,
    },
    /// Delivers slot `slot`'s event (unless it was before), `others`
    /// events of fresh keys, then slot `slot`'s again.
    AgainAfterOthers {
        /// Which slot.
        slot: usize,
        /// How many others come first.
        others: usize,
    },
    /// Delivers slot `slot`'s event (unless it was before), waits, then
    /// delivers it again.
    AgainAfterWait {
        /// Which slot.
        slot: usize,
        /// How long.
        pause: Pause,
    },
    /// Sends `copies` copies of slot `slot`'s event at once (spread over
    /// the replicas when there are several).
    Copies {
        /// Which slot.
        slot: usize,
        /// How many copies.
        copies: usize,
    },
    /// Restarts the receiver (every replica).
    Restart,
    /// Sends the deliveries that follow to this replica.
    Replica(usize),
}

/// A sequence: its operations, and the payload of each slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sequence {
    /// The operations, in order.
    pub ops: Vec<Op>,
    /// The slots' events.
    pub slots: Vec<Slot>,
}

/// What a run lets a sequence do beyond deliveries and waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Powers {
    /// The harness serves the receiver: it may restart it.
    pub restart: bool,
    /// Replicas the harness serves (1 when not replicated).
    pub replicas: usize,
}

fn slot() -> impl Strategy<Value = Slot> {
    // Ordered simplest first: shrinking moves towards the start.
    let event = prop_oneof![
        3 => Just(EventKind::GenerationCompleted),
        2 => Just(EventKind::SlowGroupCompleted),
        1 => Just(EventKind::AsyncEmbeddingCompleted),
        1 => Just(EventKind::WebhookTest),
    ];
    // The current dialect only: the legacy one is a `should` of its own
    // (dialects.*), not what a sequence's `must` judges.
    let dialect = Just(Dialect::Current);
    (event, dialect, proptest::bool::weighted(0.2), 0usize..6).prop_map(
        |(event, dialect, failed, group_size)| Slot {
            event,
            dialect,
            failed,
            group_size: if event.is_group() { group_size } else { 0 },
        },
    )
}

fn op(powers: Powers) -> BoxedStrategy<Op> {
    let slot = || 0..SLOTS;
    let others = prop_oneof![
        1 => Just(OTHERS[0]),
        1 => Just(OTHERS[1]),
        2 => Just(OTHERS[2]),
    ];
    let pause = prop_oneof![Just(Pause::Short), Just(Pause::LastRetry)];
    let mut choices: Vec<(u32, BoxedStrategy<Op>)> = vec![
        (6, slot().prop_map(|slot| Op::Deliver { slot }).boxed()),
        (
            1,
            (slot(), others)
                .prop_map(|(slot, others)| Op::AgainAfterOthers { slot, others })
                .boxed(),
        ),
        (
            1,
            (slot(), pause)
                .prop_map(|(slot, pause)| Op::AgainAfterWait { slot, pause })
                .boxed(),
        ),
        (
            2,
            (slot(), 2usize..=6)
                .prop_map(|(slot, copies)| Op::Copies { slot, copies })
                .boxed(),
        ),
    ];
    if powers.restart {
        choices.push((2, Just(Op::Restart).boxed()));
    }
    if powers.replicas > 1 {
        choices.push((3, (0..powers.replicas).prop_map(Op::Replica).boxed()));
    }
    proptest::strategy::Union::new_weighted(choices).boxed()
}

/// Sequences of 1 to `max_ops` operations over [`SLOTS`] events (shrunk by
/// [`Sequence::simpler`], not by proptest's trees: fewest runs first).
pub fn sequence(powers: Powers, max_ops: usize) -> BoxedStrategy<Sequence> {
    (
        proptest::collection::vec(op(powers), 1..=max_ops.max(1)),
        proptest::collection::vec(slot(), SLOTS),
    )
        .prop_map(|(ops, slots)| Sequence { ops, slots })
        .prop_filter("a sequence delivers something", Sequence::delivers)
        .boxed()
}

impl Sequence {
    /// Whether it delivers anything (replica switches and restarts alone
    /// check nothing).
    pub fn delivers(&self) -> bool {
        self.ops
            .iter()
            .any(|op| !matches!(op, Op::Restart | Op::Replica(_)))
    }

    /// The deliveries it makes, counting each copy and each other one.
    pub fn deliveries(&self) -> usize {
        self.ops
            .iter()
            .map(|op| match op {
                Op::Deliver { .. } | Op::AgainAfterWait { .. } => 1,
                Op::AgainAfterOthers { others, .. } => others + 1,
                Op::Copies { copies, .. } => *copies,
                _ => 0,
            })
            .sum()
    }

    /// The sequence as a scenario file of one case, `id`, whose steps are
    /// its operations and whose probes check the model: after every
    /// restart and at the end, every key delivered so far has the effect
    /// its event must have (exactly one for a completion, at most one for
    /// `webhook.test`). `header` is written as comment lines first.
    pub fn scenario(&self, id: &str, header: &str, powers: Powers) -> String {
        let mut out = String::new();
        for line in header.lines() {
            let _ = writeln!(out, "# {line}");
        }
        let _ = writeln!(out, "cases:\n  - id: {id}");
        let _ = writeln!(
            out,
            "    title: A sequence of {} keeps one effect per key",
            crate::result::count(self.ops.len(), "operation")
        );
        out.push_str("    severity: must\n    finding: true\n    rules: [effect-once]\n");
        out.push_str(
            "    requirement: >-\n      Whatever happens between the copies of an event (other deliveries, a\n      wait as long as the sender's retries, a restart, another replica,\n      copies at once), each key has the effect of one.\n",
        );
        out.push_str("    fix: Claim each key once, atomically, in a store every process shares, and keep the claim for good (no size bound, no expiry).\n");
        out.push_str("    steps:\n");
        let mut replica = 0;
        let mut delivered: Vec<usize> = Vec::new();
        for op in &self.ops {
            match op {
                Op::Deliver { slot } => {
                    let slot = slot % SLOTS;
                    self.deliver(&mut out, slot, None, powers, replica);
                    note(&mut delivered, slot);
                }
                Op::AgainAfterOthers { slot, others } => {
                    let slot = slot % SLOTS;
                    if !delivered.contains(&slot) {
                        self.deliver(&mut out, slot, None, powers, replica);
                        note(&mut delivered, slot);
                    }
                    let at = if powers.replicas > 1 {
                        format!(", replica: {replica}")
                    } else {
                        String::new()
                    };
                    let _ = writeln!(out, "      - others: {{ count: {others}{at} }}");
                    self.deliver(&mut out, slot, None, powers, replica);
                    note(&mut delivered, slot);
                }
                Op::Copies { slot, copies } => {
                    let slot = slot % SLOTS;
                    self.deliver(&mut out, slot, Some(*copies), powers, replica);
                    note(&mut delivered, slot);
                }
                Op::AgainAfterWait { slot, pause } => {
                    let slot = slot % SLOTS;
                    if !delivered.contains(&slot) {
                        self.deliver(&mut out, slot, None, powers, replica);
                        note(&mut delivered, slot);
                    }
                    let _ = writeln!(
                        out,
                        "      - wait: {}",
                        humantime::format_duration(pause.duration())
                    );
                    self.deliver(&mut out, slot, None, powers, replica);
                    note(&mut delivered, slot);
                }
                Op::Restart => {
                    out.push_str("      - restart: {}\n");
                    self.probes(&mut out, &delivered);
                }
                Op::Replica(r) => replica = r % powers.replicas.max(1),
            }
        }
        // After a last restart the keys were just probed.
        if self.ops.last() != Some(&Op::Restart) {
            self.probes(&mut out, &delivered);
        }
        out
    }

    /// Simpler sequences to try, in order: without half of the operations,
    /// without one (the costliest first: waits and other deliveries make
    /// every later try slower), then each operation simpler (fewer others,
    /// a shorter wait, fewer copies, replica 0, a plain delivery), then each
    /// payload simpler (`generation.completed`, the current dialect,
    /// succeeded, a smaller group).
    pub fn simpler(&self) -> Vec<Sequence> {
        let mut out = Vec::new();
        let n = self.ops.len();
        if n >= 4 {
            out.push(self.with_ops(self.ops[n / 2..].to_vec()));
            out.push(self.with_ops(self.ops[..n / 2].to_vec()));
        }
        let mut by_cost: Vec<usize> = (0..n).collect();
        by_cost.sort_by_key(|i| std::cmp::Reverse(cost(&self.ops[*i])));
        if n > 1 {
            for &i in &by_cost {
                let mut ops = self.ops.clone();
                ops.remove(i);
                out.push(self.with_ops(ops));
            }
        }
        out.retain(Sequence::delivers);
        for &i in &by_cost {
            for simpler in simpler_op(&self.ops[i]) {
                let mut ops = self.ops.clone();
                ops[i] = simpler;
                out.push(self.with_ops(ops));
            }
        }
        for (i, slot) in self.slots.iter().enumerate() {
            for simpler in simpler_slot(slot) {
                let mut slots = self.slots.clone();
                slots[i] = simpler;
                out.push(Sequence {
                    ops: self.ops.clone(),
                    slots,
                });
            }
        }
        out
    }

    fn with_ops(&self, ops: Vec<Op>) -> Sequence {
        Sequence {
            ops,
            slots: self.slots.clone(),
        }
    }

    fn deliver(
        &self,
        out: &mut String,
        slot: usize,
        copies: Option<usize>,
        powers: Powers,
        replica: usize,
    ) {
        let s = &self.slots[slot % self.slots.len()];
        let mut fields = vec![format!("event: {}", s.event), format!("instance: {slot}")];
        if s.dialect != Dialect::Current {
            fields.push(format!("dialect: {}", s.dialect.name()));
        }
        if s.failed {
            fields.push("state: Failed".into());
        }
        if s.event.is_group() {
            fields.push(format!("group_size: {}", s.group_size));
        }
        if let Some(copies) = copies {
            fields.push(format!("copies: {copies}"));
        }
        if powers.replicas > 1 {
            match copies {
                Some(_) => fields.push("replica: each".into()),
                None => fields.push(format!("replica: {replica}")),
            }
        }
        let _ = writeln!(out, "      - deliver: {{ {} }}", fields.join(", "));
        // Copies at once are judged by their effect, as in the suite's
        // concurrent-copies cases: one copy may be told to come back.
        if copies.is_some() {
            let _ = writeln!(out, "        expect: {{ status: any }}");
        }
    }

    fn probes(&self, out: &mut String, delivered: &[usize]) {
        for slot in delivered {
            let s = &self.slots[slot % self.slots.len()];
            let _ = writeln!(
                out,
                "      - probe: {{ event: {}, instance: {slot}, effects: required }}",
                s.event
            );
        }
    }
}

/// About what an operation costs to run, in milliseconds.
fn cost(op: &Op) -> u128 {
    match op {
        Op::AgainAfterWait { pause, .. } => pause.duration().as_millis(),
        Op::AgainAfterOthers { others, .. } => *others as u128,
        Op::Restart => 500,
        Op::Copies { copies, .. } => *copies as u128,
        Op::Deliver { .. } | Op::Replica(_) => 1,
    }
}

fn simpler_op(op: &Op) -> Vec<Op> {
    match *op {
        Op::AgainAfterOthers { slot, others } => {
            let mut out = vec![Op::Deliver { slot }];
            out.extend(
                OTHERS
                    .iter()
                    .filter(|n| **n < others)
                    .map(|&others| Op::AgainAfterOthers { slot, others }),
            );
            out
        }
        Op::AgainAfterWait { slot, pause } => {
            let mut out = vec![Op::Deliver { slot }];
            if pause != Pause::Short {
                out.push(Op::AgainAfterWait {
                    slot,
                    pause: Pause::Short,
                });
            }
            out
        }
        Op::Copies { slot, copies } if copies > 2 => vec![
            Op::Deliver { slot },
            Op::Copies {
                slot,
                copies: copies - 1,
            },
        ],
        Op::Copies { slot, .. } => vec![Op::Deliver { slot }],
        Op::Replica(r) if r > 0 => vec![Op::Replica(0)],
        _ => Vec::new(),
    }
}

fn simpler_slot(slot: &Slot) -> Vec<Slot> {
    let mut out = Vec::new();
    if slot.event != EventKind::GenerationCompleted {
        out.push(Slot {
            event: EventKind::GenerationCompleted,
            group_size: 0,
            ..slot.clone()
        });
    }
    if slot.dialect != Dialect::Current {
        out.push(Slot {
            dialect: Dialect::Current,
            ..slot.clone()
        });
    }
    if slot.failed {
        out.push(Slot {
            failed: false,
            ..slot.clone()
        });
    }
    if slot.group_size > 0 {
        out.push(Slot {
            group_size: slot.group_size / 2,
            ..slot.clone()
        });
    }
    out
}

fn note(delivered: &mut Vec<usize>, slot: usize) {
    if !delivered.contains(&slot) {
        delivered.push(slot);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;

    const ALL: Powers = Powers {
        restart: true,
        replicas: 2,
    };

    #[test]
    fn every_generated_sequence_is_a_valid_scenario() {
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let strategy = sequence(ALL, 12);
        for _ in 0..200 {
            let sequence = strategy.new_tree(&mut runner).unwrap().current();
            let yaml = sequence.scenario("fuzz.sequence.t", "a test", ALL);
            let parsed = crate::scenario::parse("t.yaml", &yaml);
            assert!(parsed.is_ok(), "{yaml}\n{:?}", parsed.err());
        }
    }

    #[test]
    fn a_sequence_probes_after_each_restart_and_at_the_end() {
        let slot = Slot {
            event: EventKind::SlowGroupCompleted,
            dialect: Dialect::Legacy,
            failed: false,
            group_size: 2,
        };
        let sequence = Sequence {
            ops: vec![
                Op::Deliver { slot: 0 },
                Op::Restart,
                Op::Replica(1),
                Op::AgainAfterOthers {
                    slot: 0,
                    others: 10,
                },
                Op::AgainAfterWait {
                    slot: 1,
                    pause: Pause::LastRetry,
                },
            ],
            slots: vec![slot.clone(), slot],
        };
        let yaml = sequence.scenario("fuzz.sequence.t", "header", ALL);
        let steps: Vec<&str> = yaml
            .lines()
            .filter_map(|l| l.strip_prefix("      - "))
            .collect();
        assert_eq!(
            steps,
            [
                "deliver: { event: slow-group.completed, instance: 0, dialect: legacy, group_size: 2, replica: 0 }",
                "restart: {}",
                "probe: { event: slow-group.completed, instance: 0, effects: required }",
                "others: { count: 10, replica: 1 }",
                "deliver: { event: slow-group.completed, instance: 0, dialect: legacy, group_size: 2, replica: 1 }",
                "deliver: { event: slow-group.completed, instance: 1, dialect: legacy, group_size: 2, replica: 1 }",
                "wait: 7s",
                "deliver: { event: slow-group.completed, instance: 1, dialect: legacy, group_size: 2, replica: 1 }",
                "probe: { event: slow-group.completed, instance: 0, effects: required }",
                "probe: { event: slow-group.completed, instance: 1, effects: required }",
            ]
        );
        assert!(yaml.starts_with("# header\ncases:\n"), "{yaml}");
        // Fewest operations first, then simpler ones, then payloads.
        let simpler = sequence.simpler();
        assert_eq!(simpler[0].ops, sequence.ops[2..], "halves first");
        assert_eq!(simpler[1].ops, sequence.ops[..2]);
        assert_eq!(
            simpler[2].ops.len(),
            4,
            "then one fewer, the costliest first"
        );
        assert!(
            !simpler[2]
                .ops
                .iter()
                .any(|op| matches!(op, Op::AgainAfterWait { .. }))
        );
        assert!(simpler.iter().all(|s| s != &sequence));
        assert_eq!(
            simpler.last().unwrap().slots[1],
            Slot {
                event: EventKind::SlowGroupCompleted,
                dialect: Dialect::Legacy,
                failed: false,
                group_size: 1
            }
        );
        assert_eq!(sequence.deliveries(), 13);
    }
}
