//! Facts that hold in every format and Go version, worked out for each family from the whole
//! capture: whether the calls that created it have returned, what the goroutine ids say about
//! when it was created, and which live connections it belongs to.
//!
//! They exist because the runtime's leak detector and parent ids are recent (Go 1.26 and 1.21)
//! and most captures come from programs without them. A `created by` line is in every dump,
//! goroutine ids in every dump, and stacks in every format; from those alone a family can be
//! told apart as per-request work that outlived its request, startup work, or work bound to a
//! connection that is still open.

use hashbrown::HashSet;
use serde::Serialize;

use super::Family;
use crate::model::{Capture, TaskFlags, TaskKind, WaitKind, funcname};

/// What a family's goroutine ids say about when it was created. Go hands out goroutine ids in
/// increasing order (each P takes them in batches of 16 from a global counter), so within one
/// process a lower id was created earlier, to within a batch per P.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct IdSpread {
    /// The family's lowest and highest id.
    pub family: [u64; 2],
    /// The lowest and highest id of the capture's live goroutines.
    pub capture: [u64; 2],
    /// The share of the capture's id range the family spans.
    pub share: f64,
    /// Every member was created in the first twentieth of the process's ids: startup work.
    pub at_startup: bool,
}

/// Live connections a family belongs to: readers in IO wait on a network connection whose
/// code created the family or whose type its code is a method of.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Partners {
    /// Goroutines reading live connections that the family is linked to.
    pub readers: u64,
    /// How they are linked: `creator` (the readers run the function that created the family)
    /// or `type` (the family's function and the readers' are methods of one type).
    pub link: &'static str,
    /// The readers' function.
    pub reader_function: String,
}

impl Partners {
    /// Each member can have a live connection of its own: the family tracks its connections.
    pub fn bound(&self, count: u64) -> bool {
        count <= self.readers
    }
}

/// The facts of one family.
#[derive(Clone, Debug, Default)]
pub struct FamilyFacts {
    /// Its members read a live network connection.
    pub is_reader: bool,
    /// The connections it is linked to, if any.
    pub partners: Option<Partners>,
    /// What its ids say (captures that list goroutines).
    pub ids: Option<IdSpread>,
}

/// Works out the facts of every family of `capture`, in the order of `families`.
pub(super) fn family_facts(capture: &Capture, families: &[Family]) -> Vec<FamilyFacts> {
    let range = id_range(capture);
    let funcs: Vec<Vec<&str>> = families.iter().map(|f| f.stack_funcs(capture).collect()).collect();
    let readers: Vec<bool> =
        families.iter().zip(&funcs).map(|(f, funcs)| is_connection_reader(f, funcs)).collect();
    // What each reader family runs: its program's functions, and the type of its loop.
    let reader_sets: Vec<(usize, HashSet<&str>, Option<&str>)> = funcs
        .iter()
        .enumerate()
        .filter(|(i, _)| readers.get(*i).copied().unwrap_or(false))
        .map(|(i, funcs)| {
            let own: HashSet<&str> =
                funcs.iter().copied().filter(|f| !funcname::is_standard_library(f)).collect();
            let loop_type =
                funcs.iter().copied().find(|f| !funcname::is_standard_library(f)).and_then(method_type);
            (i, own, loop_type)
        })
        .collect();
    families
        .iter()
        .enumerate()
        .map(|(i, family)| {
            let is_reader = readers.get(i).copied().unwrap_or(false);
            let own_type = funcs
                .get(i)
                .and_then(|fs| fs.iter().copied().find(|f| !funcname::is_standard_library(f)))
                .and_then(method_type);
            let mut partners: Option<Partners> = None;
            if !is_reader {
                let mut seen: HashSet<usize> = HashSet::new();
                for (r, own, loop_type) in &reader_sets {
                    let by_creator = family.creator.as_deref().is_some_and(|c| own.contains(c));
                    let by_type = own_type.is_some() && own_type == *loop_type;
                    if (by_creator || by_type) && seen.insert(*r) {
                        let Some(reader) = families.get(*r) else { continue };
                        let p = partners.get_or_insert_with(|| Partners {
                            readers: 0,
                            link: if by_creator { "creator" } else { "type" },
                            reader_function: capture
                                .user_frame(reader.representative.stack)
                                .map(|f| capture.func_name(f).to_owned())
                                .unwrap_or_default(),
                        });
                        p.readers += reader.count;
                    }
                }
            }
            FamilyFacts { is_reader, partners, ids: range.and_then(|r| id_spread(capture, family, r)) }
        })
        .collect()
}

/// A goroutine in IO wait reading a network connection in the program's own code: it serves a
/// live connection (a session, a stream, a replica), the one fact that says the connection is
/// still open.
fn is_connection_reader(family: &Family, funcs: &[&str]) -> bool {
    const READS: &[&str] = &["internal/poll.(*FD).Read", "net.(*conn).Read", "crypto/tls.(*Conn).Read"];
    let io = matches!(family.dominant_wait(), WaitKind::Io | WaitKind::Other);
    io && funcs.iter().any(|f| READS.contains(f)) && funcs.iter().any(|f| !funcname::is_standard_library(f))
}

/// The pointer-receiver type of a method, `pkg.(*T)` in `pkg.(*T).m`, for methods only (a
/// closure inside a method belongs to whatever the method handed it to).
fn method_type(func: &str) -> Option<&str> {
    let open = func.find(".(*")?;
    let close = open + func.get(open..)?.find(')')?;
    let method = func.get(close + 2..)?;
    (!method.is_empty() && !method.contains('.')).then(|| func.get(..=close)).flatten()
}

/// The lowest and highest id of the capture's live goroutines, outside the runtime's own.
fn id_range(capture: &Capture) -> Option<(u64, u64)> {
    let ids = capture
        .tasks
        .iter()
        .filter(|t| t.kind == TaskKind::Goroutine && !t.flags.contains(TaskFlags::ENDED))
        .filter(|t| !t.flags.contains(TaskFlags::SYSTEM))
        .map(|t| t.id);
    let (mut lo, mut hi) = (u64::MAX, 0);
    for id in ids {
        lo = lo.min(id);
        hi = hi.max(id);
    }
    // A process that has made a few dozen goroutines has no history to read in its ids.
    (hi > lo && hi - lo >= MIN_ID_RANGE).then_some((lo, hi))
}

/// The least id range (goroutines created over the process's life) that tells startup from
/// later work: a few of the runtime's per-P batches of 16.
const MIN_ID_RANGE: u64 = 64;

fn id_spread(capture: &Capture, family: &Family, (lo, hi): (u64, u64)) -> Option<IdSpread> {
    let ids = family.representative.members.iter().filter_map(|&m| capture.tasks.id(m as usize));
    let (mut a, mut b) = (u64::MAX, 0);
    for id in ids {
        a = a.min(id);
        b = b.max(id);
    }
    if b < a {
        return None;
    }
    let span = (hi - lo) as f64;
    Some(IdSpread {
        family: [a, b],
        capture: [lo, hi],
        share: (b - a) as f64 / span,
        at_startup: (b.saturating_sub(lo)) as f64 <= span / 20.0,
    })
}
