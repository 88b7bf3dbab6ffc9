//! What the leak rules produce: findings with their severity, rules and evidence, the
//! families left out and why. Kept apart from the engine (`mod.rs`) so the report, the views
//! and the async rules read these types without the rules' machinery.

use std::collections::BTreeMap;

use serde::Serialize;

use super::evidence::{IdSpread, Partners};
use crate::analysis::sites::SiteKey;
use crate::model::{Group, StackId};

/// How sure a finding is. Ordered from most to least sure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Nothing can ever wake these goroutines (the runtime proved it, or the stack shows it).
    Proven,
    /// The evidence points to a leak.
    Likely,
    /// Suspicious; a second capture or a longer wait would tell.
    Possible,
    /// Not a leak: contention or a hang worth seeing, reported apart.
    Warning,
}

impl Severity {
    /// The stable name used in output and `--fail-on`.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Proven => "proven",
            Severity::Likely => "likely",
            Severity::Possible => "possible",
            Severity::Warning => "warning",
        }
    }

    /// Parses a stable name.
    pub fn from_name(name: &str) -> Option<Self> {
        [Severity::Proven, Severity::Likely, Severity::Possible, Severity::Warning]
            .into_iter()
            .find(|s| s.name() == name)
    }
}

/// The rule catalogue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleId {
    /// The Go runtime's leak detector marked them.
    RuntimeProven,
    /// Parked on a nil channel or an empty select.
    NeverWakes,
    /// Started by request-handling code and parked after the request ended.
    OutlivedRequest,
    /// Stuck inside a client call waiting on something outside the process.
    BlockedClientCall,
    /// Per-connection loops far above a sane number, or growing.
    ConnPoolGrowth,
    /// The context package's cancel-propagation goroutines piling up.
    ContextPropagation,
    /// A family that grows from the baseline, or across a series.
    Growing,
    /// Parked for a long time in a wait no other rule explains.
    LongWait,
    /// Very many goroutines from one creation site parked, nothing else known.
    ParkedCrowd,
    /// Many goroutines queued on one lock or WaitGroup: contention or a hang, not a leak.
    PileUp,
    /// Async work (Node.js promises, libuv requests) never finished, left in the same shape by
    /// several origins (requests, timer runs): a code path that leaks every time it runs.
    NeverSettled,
    /// asyncio tasks still pending when the event loop shut down (cancelled by `asyncio.run`).
    PendingAtExit,
    /// Async operations open far longer than any of their kind that ended, in a trace that
    /// doesn't say what created them.
    NeverEnded,
    /// Spans begun and never ended (`B` without `E`) off the main thread.
    OpenSpan,
    /// Threads alive at the end, idle in one blocking call for (nearly) their whole life.
    IdleThread,
    /// An allocation site of a Go heap profile whose in-use memory grew since the baseline (or
    /// along a series) by more than the profile's sampling noise.
    HeapGrowth,
}

impl RuleId {
    /// Every rule, most to least severe.
    pub const ALL: [RuleId; 16] = [
        RuleId::RuntimeProven,
        RuleId::NeverWakes,
        RuleId::OutlivedRequest,
        RuleId::NeverSettled,
        RuleId::PendingAtExit,
        RuleId::BlockedClientCall,
        RuleId::ConnPoolGrowth,
        RuleId::ContextPropagation,
        RuleId::Growing,
        RuleId::HeapGrowth,
        RuleId::LongWait,
        RuleId::ParkedCrowd,
        RuleId::NeverEnded,
        RuleId::OpenSpan,
        RuleId::IdleThread,
        RuleId::PileUp,
    ];

    /// The stable id.
    pub fn id(self) -> &'static str {
        match self {
            RuleId::RuntimeProven => "runtime-proven",
            RuleId::NeverWakes => "never-wakes",
            RuleId::OutlivedRequest => "outlived-request",
            RuleId::BlockedClientCall => "blocked-client-call",
            RuleId::ConnPoolGrowth => "conn-pool-growth",
            RuleId::ContextPropagation => "context-propagation",
            RuleId::Growing => "growing",
            RuleId::LongWait => "long-wait",
            RuleId::ParkedCrowd => "parked-crowd",
            RuleId::PileUp => "pile-up",
            RuleId::NeverSettled => "never-settled",
            RuleId::PendingAtExit => "pending-at-exit",
            RuleId::NeverEnded => "never-ended",
            RuleId::OpenSpan => "open-span",
            RuleId::IdleThread => "idle-thread",
            RuleId::HeapGrowth => "heap-growth",
        }
    }

    /// The severity the rule usually carries (a rule may lower it when evidence is thin).
    pub fn default_severity(self) -> Severity {
        match self {
            RuleId::RuntimeProven | RuleId::NeverWakes => Severity::Proven,
            RuleId::OutlivedRequest
            | RuleId::BlockedClientCall
            | RuleId::ConnPoolGrowth
            | RuleId::ContextPropagation
            | RuleId::Growing
            | RuleId::HeapGrowth
            | RuleId::NeverSettled
            | RuleId::PendingAtExit => Severity::Likely,
            RuleId::LongWait
            | RuleId::ParkedCrowd
            | RuleId::NeverEnded
            | RuleId::OpenSpan
            | RuleId::IdleThread => Severity::Possible,
            RuleId::PileUp => Severity::Warning,
        }
    }
}

/// What the parents of a family's goroutines say (dumps from Go 1.21 on print `in goroutine N`;
/// traces record creation).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ParentFacts {
    /// Members whose parent id is known.
    pub known: u64,
    /// Distinct parent goroutines.
    pub distinct: u64,
    /// Members whose parent still exists.
    pub alive: u64,
    /// Members whose parent no longer exists (orphans).
    pub gone: u64,
    /// Members whose parent is a request goroutine still serving the request that started
    /// them (it runs their creator).
    pub in_request: u64,
    /// Members whose parent is a connection idle between requests, or serving another request
    /// since: the request that started them is over.
    pub request_over: u64,
    /// Members started by the main goroutine (goroutine 1), which is still running.
    pub main: u64,
}

/// The facts a finding rests on.
// Each flag is an independent fact a rule used; a flags enum would make the JSON less plain.
#[allow(clippy::struct_excessive_bools)]
#[derive(Clone, Debug, Default, Serialize)]
pub struct Evidence {
    /// Goroutines per state, as the capture spells states (wait kinds for profiles).
    pub states: BTreeMap<String, u64>,
    /// Least and most minutes waited, where the capture prints them.
    pub wait_minutes: Option<[i64; 2]>,
    /// The creating function and its location.
    pub created_by: Option<String>,
    /// What the parents say.
    pub parents: Option<ParentFacts>,
    /// Goroutines the runtime marked leaked.
    pub runtime_marked: u64,
    /// The runtime's deadlock detector stopped the program with these goroutines asleep.
    pub deadlock: bool,
    /// The client call they are stuck in: (frame, client).
    pub client_call: Option<[String; 2]>,
    /// The creator's name follows request-handler conventions or appears in request stacks.
    pub creator_is_request_code: bool,
    /// Goroutines currently running inside the creator (0 means every creating call returned).
    pub creator_active: Option<u64>,
    /// Parked goroutines from the same creation site, across wait sites.
    pub creation_site_total: u64,
    /// Number of distinct stacks merged into this finding.
    pub stacks: u64,
    /// The finding's goroutines by pprof label set, largest first; empty when none carries
    /// labels. A finding is one creation and wait site across label sets, so the verdict does
    /// not depend on them; this says which routes or tenants it holds.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub label_sets: Vec<LabelSetCount>,
    /// The capture gives no state and the frames don't show the wait; that they are parked is
    /// inferred from how many share the stack.
    pub parked_inferred_from_count: bool,
    /// net/http client read loops waiting for response bodies to be read or closed.
    pub open_response_bodies: bool,
    /// Connections of this family whose response body is held open (read loops holding one,
    /// or the write loops paired with them).
    pub connections_with_open_bodies: u64,
    /// Transactions in the capture blocked rolling back after their context ended (SQL calls
    /// only): the driver is ignoring cancelled contexts.
    pub blocked_rollbacks: u64,
    /// What an execution trace adds: exact block times, wake-ups, orphaning, site growth.
    pub trace: Option<TraceEvidence>,
    /// What a trace of another runtime says about unfinished async work, tasks or threads
    /// (absent for goroutine findings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub async_work: Option<AsyncEvidence>,
    /// What the family's goroutine ids say about when it was created (dumps and traces).
    pub ids: Option<IdSpread>,
    /// The live connections the family belongs to, where its code links it to readers of
    /// connections that are still open.
    pub partners: Option<Partners>,
    /// What a heap-growth finding rests on (absent for goroutine findings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heap: Option<HeapEvidence>,
    /// The memory a goroutine family keeps alive: its stacks (an estimate) and the heap growth
    /// of the same program that its frames explain (absent for other findings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<HeldMemory>,
    /// Facts the capture could not give that would make the verdict firmer, for people.
    pub missing: Vec<String>,
    /// Facts for people, one line each.
    pub facts: Vec<String>,
}

/// One heap profile column before and after: (baseline or first of the series, analysed).
pub type Before2After = [i64; 2];

/// What a heap-growth finding rests on: one allocation site (the innermost frame of the
/// program's own code, or of the standard library code above its allocation helpers) in two
/// heap profiles of one program.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct HeapEvidence {
    /// The allocation site: the function the growth is charged to.
    pub site: String,
    /// Bytes in use at the site (`inuse_space`).
    pub inuse_space: Before2After,
    /// Objects in use at the site (`inuse_objects`).
    pub inuse_objects: Before2After,
    /// Bytes allocated since the program started (`alloc_space`); growth here alone is churn.
    pub alloc_space: Before2After,
    /// Objects allocated since the program started (`alloc_objects`).
    pub alloc_objects: Before2After,
    /// In-use bytes along a series, oldest first; empty for a plain baseline.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub series: Vec<i64>,
    /// The sampling period in bytes (`runtime.MemProfileRate`) the estimate assumed.
    pub period: i64,
    /// Whether the profile stated the period (else Go's default of 512 KiB was assumed).
    pub period_stated: bool,
    /// Estimated raw samples behind the in-use values, before and after: the profile's values
    /// are scaled up from these.
    pub raw_samples: [f64; 2],
    /// How many standard deviations of sampling noise the growth is (a Poisson test on the raw
    /// samples: (after - before) / sqrt(after + before)).
    pub z: f64,
    /// The chance that sampling noise alone shows a growth this large (one-sided).
    pub p_noise: f64,
    /// Share of the after profile's in-use bytes that the site's growth is.
    pub share_of_inuse: f64,
    /// The site's stacks that grew most, largest growth first.
    pub stacks: Vec<HeapStack>,
    /// Goroutine findings of the same program whose goroutines hold this memory: their titles.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub held_by: Vec<String>,
}

/// One allocation stack of a heap-growth site.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HeapStack {
    /// Function names, innermost (the allocation) first.
    pub frames: Vec<String>,
    /// Bytes in use, before and after.
    pub inuse_space: Before2After,
    /// Objects in use, before and after.
    pub inuse_objects: Before2After,
}

/// The memory a goroutine family keeps alive.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct HeldMemory {
    /// At least this many bytes of goroutine stacks: the family's goroutines times Go's
    /// minimum stack. An estimate: stacks grow as calls need, and Go 1.19+ starts goroutines at
    /// the average stack size in use.
    pub stack_bytes_min: u64,
    /// Heap growth in profiles of the same program that these goroutines hold, where an
    /// allocation stack that grew shares a frame with the family.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub heap: Vec<HeapLink>,
}

/// A heap site that grew, joined to a goroutine family that shares one of its frames.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HeapLink {
    /// The heap profile (its path) the growth is seen in.
    pub profile: String,
    /// The heap-growth site.
    pub site: String,
    /// The frame the allocation stack shares with the family (its creator, start, wait site or
    /// own code).
    pub shared_frame: String,
    /// The functions that allocated the memory (innermost frames of the grown stacks).
    pub allocated_by: Vec<String>,
    /// In-use bytes the site grew by.
    pub inuse_space_delta: i64,
    /// In-use objects the site grew by.
    pub inuse_objects_delta: i64,
}

/// How many of a finding's goroutines carry one label set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LabelSetCount {
    /// Key to value; empty for the goroutines without labels.
    pub labels: BTreeMap<String, String>,
    /// Goroutines with exactly these labels.
    pub count: u64,
}

/// The evidence of a finding about async work, asyncio tasks, spans or threads.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct AsyncEvidence {
    /// What is unfinished: an operation name (`PROMISE`), `asyncio task`, `thread` or `span`.
    pub what: String,
    /// The operations' category as the trace writes it.
    pub category: Option<String>,
    /// The name kind of the threads or task lanes (`drain-N`, `audit-N`).
    pub lane_kind: Option<String>,
    /// The resource whose work started each chain (Node.js `triggerAsyncId` followed up to a
    /// request, a timer, a socket), or `(outside the trace)`.
    pub origin: Option<String>,
    /// How many origins left this same shape behind (0 where origins are unknown).
    pub origins: u64,
    /// What each origin left unfinished: (operation, links from the origin down to it).
    pub per_origin: Vec<(String, u32)>,
    /// Of the same name and category (or lane kind), how many did finish.
    pub ended: Option<u64>,
    /// The longest any finished operation of the same name and category took.
    pub longest_ended_ns: Option<i64>,
    /// Least and most time open at the end of the capture (operations, spans), suspended
    /// (asyncio tasks) or blocked (threads).
    pub open_ns: Option<[i64; 2]>,
    /// Least share of their lifetime the threads spent blocked.
    pub blocked_share: Option<f64>,
    /// Threads that ended only when another thread joined them.
    pub joined_at_exit: u64,
    /// What ended them, where the trace shows it: asyncio's `_cancel_all_tasks` or a
    /// `Thread.join`.
    pub ended_by: Option<String>,
}

/// A family's evidence from an execution trace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TraceEvidence {
    /// Members parked at the end and not woken since they parked.
    pub blocked_at_end: u64,
    /// Least and most time blocked at the end (lower bounds for goroutines parked before the
    /// trace began).
    pub blocked_ns: Option<[i64; 2]>,
    /// Members parked since before the trace began: the trace never saw them awake.
    pub blocked_before_trace: u64,
    /// Members created during the trace.
    pub created_in_trace: u64,
    /// Members never woken during the trace.
    pub never_woken: u64,
    /// Members whose creator ended during the trace while they stayed parked.
    pub orphaned: u64,
    /// The creation site (the function these goroutines start in) over the trace.
    pub site: Option<SiteGrowth>,
    /// The trace's length when it is a window onto a running program (a flight-recorder
    /// snapshot): then members blocked since before it began were blocked through all of it,
    /// for how much longer the window cannot say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_ns: Option<i64>,
    /// Members woken during the trace: left a block at least once, or not blocked at the end.
    #[serde(skip_serializing_if = "is_zero")]
    pub woken: u64,
    /// Members that blocked after a cut-off trace's last, incomplete generation began: the
    /// event that woke them may be among those the cut lost.
    #[serde(skip_serializing_if = "is_zero")]
    pub blocked_after_cut: u64,
}

#[expect(clippy::trivially_copy_pass_by_ref, reason = "serde's skip_serializing_if passes a reference")]
fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// How a creation site's live goroutines moved during a trace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SiteGrowth {
    /// Alive when the trace began.
    pub alive_at_start: u32,
    /// Created during the trace.
    pub created: u32,
    /// Ended during the trace.
    pub ended: u32,
    /// Alive at the end.
    pub alive_at_end: u32,
}

/// Counts before and after.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Growth {
    /// In the baseline (or the first capture of a series).
    pub before: u64,
    /// In the analysed capture.
    pub after: u64,
    /// Counts along a series, oldest first; empty for a plain baseline.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub series: Vec<u64>,
}

/// One leak (or pile-up) finding.
#[derive(Clone, Debug)]
pub struct Finding {
    /// The most severe rule that matched.
    pub rule: RuleId,
    /// Every rule that matched, most severe first.
    pub rules: Vec<RuleId>,
    /// Severity of the primary rule.
    pub severity: Severity,
    /// One line for people.
    pub title: String,
    /// Goroutines in the finding.
    pub count: u64,
    /// Creation and wait sites.
    pub key: SiteKey,
    /// The goroutines as one group: the largest stack as representative, all members.
    pub group: Group,
    /// Every stack in the finding.
    pub stacks: Vec<StackId>,
    /// What it rests on.
    pub evidence: Evidence,
    /// What the stack shows and why that is a leak.
    pub explanation: String,
    /// What to change.
    pub fix: String,
    /// Counts against the baseline or along a series.
    pub growth: Option<Growth>,
}

/// A family left out, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Excluded {
    /// The family.
    pub key: SiteKey,
    /// Its goroutines.
    pub count: u64,
    /// Why: a benign pattern's name, or a user ignore rule.
    pub reason: String,
}

/// The outcome of analysing one capture.
#[derive(Clone, Debug, Default)]
pub struct Analysis {
    /// Findings, worst first: by severity, then count.
    pub findings: Vec<Finding>,
    /// Families matching a known-healthy pattern.
    pub benign: Vec<Excluded>,
    /// Families the user's ignore rules removed.
    pub ignored: Vec<Excluded>,
}

impl Analysis {
    /// Whether a finding at or above `severity` exists (for `--fail-on`).
    pub fn fails_at(&self, severity: Severity) -> bool {
        self.findings.iter().any(|f| f.severity <= severity)
    }
}
