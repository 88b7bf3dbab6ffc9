//! The `heap-growth` rule: allocation sites of a Go heap profile whose in-use memory grew since
//! the first profile of its series (a baseline, or the oldest snapshot), by more than the
//! profile's sampling noise; and the join of that growth with the goroutine findings of the
//! same program, whose goroutines hold the memory.
//!
//! Go samples heap allocations, one every `runtime.MemProfileRate` bytes on average (512 KiB by
//! default), and writes each site's values scaled up to an estimate of the whole: a site with
//! "1 MB in use" may rest on two samples. So a growth is judged on the raw samples behind it,
//! recovered from the scaled values and the profile's `period` as Go's own `scaleHeapSample`
//! scaled them, with a Poisson test: the difference of two Poisson counts has variance
//! `before + after`, so `(after - before) / sqrt(after + before)` is how many standard
//! deviations of noise the growth is.
//!
//! `alloc_*` columns count every allocation since the program started: they grow in any
//! program that runs. Their growth with the in-use memory flat is churn, reported as healthy.

use std::fmt::Write as _;

use hashbrown::HashMap;

use super::finding::{HeapEvidence, HeapLink, HeapStack, HeldMemory};
use super::{Analysis, Evidence, Excluded, Finding, RuleId, Severity};
use crate::analysis::sites::{SiteKey, is_wrapper};
use crate::format;
use crate::model::{Capture, Group, StackId, WaitKind, funcname};

/// Go's default heap sampling period (`runtime.MemProfileRate`), assumed when a profile does
/// not state its own.
pub const DEFAULT_PERIOD: i64 = 512 * 1024;

/// Go's minimum goroutine stack on Linux, macOS and Windows amd64/arm64 (`stackMin` in
/// runtime/stack.go, 2 KiB since Go 1.4).
pub const MIN_STACK_BYTES: u64 = 2048;

/// Standard deviations of sampling noise a growth must exceed to be likely a leak
/// (about one chance in 750 that noise alone shows it).
const Z_LIKELY: f64 = 3.0;

/// Standard deviations for a possible leak (about one chance in 44).
const Z_POSSIBLE: f64 = 2.0;

/// Least in-use growth worth a finding: smaller sites are the runtime's and the libraries'
/// one-off tables, whatever their statistics.
const MIN_GROWTH_BYTES: i64 = 64 * 1024;

/// Least share of the newest profile's in-use bytes a site's growth must be.
const MIN_GROWTH_SHARE: f64 = 0.01;

/// Most stacks listed per finding.
const MAX_STACKS: usize = 5;

/// Most churn sites listed as healthy.
const MAX_CHURN: usize = 3;

/// Whether `capture` is a Go heap (or allocs) profile the rule reads.
pub(super) fn applies(capture: &Capture) -> bool {
    matches!(capture.source.profile_type.as_deref(), Some("heap" | "allocs"))
        && Columns::of(capture).is_some()
}

/// The four columns of a Go heap profile.
#[derive(Clone, Copy)]
struct Columns {
    alloc_objects: usize,
    alloc_space: usize,
    inuse_objects: usize,
    inuse_space: usize,
}

impl Columns {
    fn of(capture: &Capture) -> Option<Self> {
        let find = |name: &str| capture.samples.types.iter().position(|t| capture.str(t.kind) == name);
        Some(Self {
            alloc_objects: find("alloc_objects")?,
            alloc_space: find("alloc_space")?,
            inuse_objects: find("inuse_objects")?,
            inuse_space: find("inuse_space")?,
        })
    }
}

/// One stack's values in one profile: alloc objects, alloc bytes, in-use objects, in-use bytes.
#[derive(Clone, Copy, Default)]
struct Values([i64; 4]);

impl Values {
    fn add(&mut self, other: Values) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a = a.saturating_add(b);
        }
    }
    fn inuse_objects(self) -> i64 {
        self.0[2]
    }
    fn inuse_space(self) -> i64 {
        self.0[3]
    }
}

/// A profile's stacks by their function names (ids differ between profiles).
struct Profile<'c> {
    capture: &'c Capture,
    /// Values per stack text, with a stack id of this capture.
    stacks: HashMap<Vec<&'c str>, (Values, StackId)>,
    inuse_total: i64,
    period: i64,
    period_stated: bool,
}

impl<'c> Profile<'c> {
    fn of(capture: &'c Capture) -> Option<Self> {
        let cols = Columns::of(capture)?;
        let s = &capture.samples;
        let mut stacks: HashMap<Vec<&'c str>, (Values, StackId)> = HashMap::new();
        for i in 0..s.len() {
            let Some(&stack) = s.stack.get(i) else { continue };
            let v = Values([
                s.value(i, cols.alloc_objects),
                s.value(i, cols.alloc_space),
                s.value(i, cols.inuse_objects),
                s.value(i, cols.inuse_space),
            ]);
            let key: Vec<&str> = capture.stack_funcs(stack).collect();
            stacks.entry(key).or_insert((Values::default(), stack)).0.add(v);
        }
        let period_stated = s.period > 0;
        Some(Self {
            capture,
            stacks,
            inuse_total: s.total(cols.inuse_space),
            period: if period_stated { s.period } else { DEFAULT_PERIOD },
            period_stated,
        })
    }
}

/// The function a stack's allocation is charged to: the innermost frame of the program's own
/// code; in a stack of standard library code only, the innermost frame above the allocation
/// helpers (`bufio.NewReaderSize` under `net/http.(*Transport).dialConn` is dialConn's).
pub fn site_function<'a>(frames: &[&'a str]) -> &'a str {
    let own =
        frames.iter().find(|f| !funcname::is_standard_library(f) && !is_wrapper(f) && **f != "main.main");
    let above_helpers = || frames.iter().find(|f| !is_allocation_helper(f) && !is_wrapper(f));
    // The runtime's own allocations (`runtime.malg`: goroutine descriptors) are charged to the
    // runtime function that asked, not to the allocator's entry points.
    let above_allocator = || frames.iter().find(|f| !is_allocator_entry(f));
    own.or_else(above_helpers).or_else(above_allocator).or(frames.first()).copied().unwrap_or("")
}

/// The runtime's allocation entry points, which every allocation passes.
fn is_allocator_entry(func: &str) -> bool {
    const ENTRIES: [&str; 10] = [
        "runtime.mallocgc",
        "runtime.new",
        "runtime.make",
        "runtime.grow",
        "runtime.raw",
        "runtime.mapassign",
        "runtime.concat",
        "runtime.slicebyte",
        "runtime.stringto",
        "internal/runtime/maps.",
    ];
    ENTRIES.iter().any(|e| func.starts_with(e))
}

/// Packages whose functions allocate on behalf of their caller: the caller decided to keep
/// the memory.
fn is_allocation_helper(func: &str) -> bool {
    const HELPERS: [&str; 14] = [
        "bufio.",
        "bytes.",
        "strings.",
        "strconv.",
        "fmt.",
        "reflect.",
        "slices.",
        "maps.",
        "sync.",
        "unicode/",
        "encoding/",
        "compress/",
        "errors.",
        "sort.",
    ];
    funcname::is_runtime(func) || func.starts_with("internal/") || HELPERS.iter().any(|h| func.starts_with(h))
}

/// Estimated raw samples behind scaled in-use values: Go samples an object of `size` bytes
/// with probability `1 - exp(-size/period)` and divides by it, so that is what to multiply by.
fn raw_samples(objects: i64, space: i64, period: i64) -> f64 {
    if objects <= 0 || space <= 0 || period <= 0 {
        return 0.0;
    }
    let avg = space as f64 / objects as f64;
    objects as f64 * (1.0 - (-avg / period as f64).exp())
}

/// The one-sided chance that a standard normal exceeds `z` (Abramowitz and Stegun 7.1.26 for
/// erfc, good to 1.5e-7).
fn p_above(z: f64) -> f64 {
    if z <= 0.0 {
        return 1.0;
    }
    let x = z / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736 + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    0.5 * poly * (-x * x).exp()
}

/// A site's values in each profile of the series.
struct Site<'c> {
    name: &'c str,
    /// Per profile (oldest first): summed values.
    per_profile: Vec<Values>,
    /// Raw sample estimates per profile.
    raw: Vec<f64>,
    /// Stacks with their before and after values, and the stack id in the newest profile.
    stacks: Vec<(Vec<&'c str>, Values, Values, Option<StackId>)>,
}

/// Analyses the newest heap profile of `series` (oldest first) against the first.
pub(super) fn analyze(series: &[&Capture]) -> Analysis {
    let mut analysis = Analysis::default();
    let profiles: Vec<Profile<'_>> = series.iter().filter_map(|c| Profile::of(c)).collect();
    let (Some(first), Some(last)) = (profiles.first(), profiles.last()) else { return analysis };
    if profiles.len() < 2 {
        return analysis;
    }
    let mut sites: HashMap<&str, Site<'_>> = HashMap::new();
    let n = profiles.len();
    for (k, p) in profiles.iter().enumerate() {
        // In the order of their frames, not the map's (which a process's hash seed picks): the
        // raw sample estimates are sums of floats, and a report must read the same every run.
        let mut stacks: Vec<_> = p.stacks.iter().collect();
        stacks.sort_unstable_by(|a, b| a.0.cmp(b.0));
        for (frames, &(values, _)) in stacks {
            let name = site_function(frames);
            let site = sites.entry(name).or_insert_with(|| Site {
                name,
                per_profile: vec![Values::default(); n],
                raw: vec![0.0; n],
                stacks: Vec::new(),
            });
            if let Some(v) = site.per_profile.get_mut(k) {
                v.add(values);
            }
            if let Some(r) = site.raw.get_mut(k) {
                *r += raw_samples(values.inuse_objects(), values.inuse_space(), p.period);
            }
        }
    }
    // Stacks by text, first and last profile, for the evidence.
    for (frames, &(after, id)) in &last.stacks {
        let before = first.stacks.get(frames).map_or(Values::default(), |e| e.0);
        if let Some(site) = sites.get_mut(site_function(frames)) {
            site.stacks.push((frames.clone(), before, after, Some(id)));
        }
    }
    for (frames, &(before, _)) in &first.stacks {
        if !last.stacks.contains_key(frames)
            && let Some(site) = sites.get_mut(site_function(frames))
        {
            site.stacks.push((frames.clone(), before, Values::default(), None));
        }
    }
    let mut grown: Vec<(Finding, i64)> = Vec::new();
    let mut churn: Vec<(Excluded, i64)> = Vec::new();
    for site in sites.values_mut() {
        site.stacks.sort_by(|a, b| {
            let d = |s: &(Vec<&str>, Values, Values, Option<StackId>)| s.2.inuse_space() - s.1.inuse_space();
            d(b).cmp(&d(a)).then_with(|| a.0.cmp(&b.0))
        });
        match judge(site, first, last) {
            Judged::Finding(f) => {
                let delta = f.evidence.heap.as_ref().map_or(0, |h| h.inuse_space[1] - h.inuse_space[0]);
                grown.push((*f, delta));
            }
            Judged::Churn(e, d) => churn.push((e, d)),
            Judged::Nothing => {}
        }
    }
    grown.sort_by(|a, b| {
        a.0.severity.cmp(&b.0.severity).then(b.1.cmp(&a.1)).then_with(|| a.0.key.cmp(&b.0.key))
    });
    churn.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.key.cmp(&b.0.key)));
    analysis.findings = grown.into_iter().map(|(f, _)| f).collect();
    analysis.benign = churn.into_iter().take(MAX_CHURN).map(|(e, _)| e).collect();
    analysis
}

enum Judged {
    Finding(Box<Finding>),
    /// Allocations grew, in-use memory did not: (healthy entry, alloc bytes grown).
    Churn(Excluded, i64),
    Nothing,
}

fn judge(site: &Site<'_>, first: &Profile<'_>, last: &Profile<'_>) -> Judged {
    let (Some(&b), Some(&a)) = (site.per_profile.first(), site.per_profile.last()) else {
        return Judged::Nothing;
    };
    let (Some(&r0), Some(&r1)) = (site.raw.first(), site.raw.last()) else { return Judged::Nothing };
    let space = [b.inuse_space(), a.inuse_space()];
    let delta = space[1] - space[0];
    let z = if r0 + r1 > 0.0 { (r1 - r0) / (r0 + r1).sqrt() } else { 0.0 };
    let share = if last.inuse_total > 0 { delta as f64 / last.inuse_total as f64 } else { 0.0 };
    let key = SiteKey {
        creator: None,
        start: String::new(),
        wait: String::new(),
        user: site.name.to_owned(),
        user_path: vec![site.name.to_owned()],
    };
    // Along a series the growth must go on to the newest profile: a cache that filled between
    // the first snapshots and stopped is not a leak.
    let series: Vec<i64> = if site.per_profile.len() > 2 {
        site.per_profile.iter().map(|v| v.inuse_space()).collect()
    } else {
        Vec::new()
    };
    let still_growing = match (series.len(), site.raw.len()) {
        (0, _) => true,
        (len, raw_len) => {
            let last_step = series.get(len - 2).zip(series.last()).is_some_and(|(p, l)| l > p);
            let steps_z = site.raw.windows(2).all(|w| match w {
                [prev, next] if prev + next > 0.0 => (next - prev) / (prev + next).sqrt() > -Z_POSSIBLE,
                _ => true,
            });
            last_step && steps_z && raw_len == len
        }
    };
    let big_enough = delta >= MIN_GROWTH_BYTES && share >= MIN_GROWTH_SHARE;
    let severity = match z {
        z if z >= Z_LIKELY && big_enough && still_growing => Severity::Likely,
        z if z >= Z_POSSIBLE && big_enough && still_growing => Severity::Possible,
        _ => {
            let alloc = a.0[1] - b.0[1];
            // In-use flat (or within noise) while allocations went on: churn.
            return if alloc > MIN_GROWTH_BYTES && delta < MIN_GROWTH_BYTES {
                let reason = format!(
                    "allocation churn, not a leak: {} allocated since the first profile ({} objects), in use {} ({})",
                    format::bytes(alloc),
                    format::delta(a.0[0] - b.0[0]),
                    format::bytes(space[1]),
                    if delta == 0 {
                        "unchanged".to_owned()
                    } else {
                        format!("{} bytes", format::delta(delta))
                    },
                );
                Judged::Churn(Excluded { key, count: 0, reason }, alloc)
            } else {
                Judged::Nothing
            };
        }
    };
    let p_noise = p_above(z);
    let stacks: Vec<HeapStack> = site
        .stacks
        .iter()
        .filter(|s| s.2.inuse_space() > s.1.inuse_space())
        .take(MAX_STACKS)
        .map(|(frames, before, after, _)| HeapStack {
            frames: frames.iter().map(|f| (*f).to_owned()).collect(),
            inuse_space: [before.inuse_space(), after.inuse_space()],
            inuse_objects: [before.inuse_objects(), after.inuse_objects()],
        })
        .collect();
    let representative = site.stacks.iter().find_map(|s| s.3).unwrap_or_default();
    let heap = HeapEvidence {
        site: site.name.to_owned(),
        inuse_space: space,
        inuse_objects: [b.inuse_objects(), a.inuse_objects()],
        alloc_space: [b.0[1], a.0[1]],
        alloc_objects: [b.0[0], a.0[0]],
        series,
        period: last.period,
        period_stated: last.period_stated && first.period_stated,
        raw_samples: [r0, r1],
        z,
        p_noise,
        share_of_inuse: share,
        stacks,
        held_by: Vec::new(),
    };
    let mut evidence = Evidence { stacks: site.stacks.len() as u64, ..Evidence::default() };
    evidence.facts = heap_facts(&heap, first.capture, severity);
    if !heap.period_stated {
        evidence.missing.push(format!(
            "the profile does not state its sampling period; Go's default of {} was assumed",
            format::bytes(DEFAULT_PERIOD)
        ));
    }
    evidence.heap = Some(heap);
    let objects = a.inuse_objects() - b.inuse_objects();
    let title = format!(
        "{}: {} in use ({} objects) since the first heap profile",
        site.name,
        signed_bytes(delta),
        format::delta(objects)
    );
    let group = Group {
        count: 0,
        state: None,
        wait_kind: WaitKind::Other,
        leaked: false,
        stack: representative,
        created_by: None,
        name: None,
        labels: crate::model::LabelSetId::EMPTY,
        wait_ns: None,
        members: Vec::new(),
    };
    Judged::Finding(Box::new(Finding {
        rule: RuleId::HeapGrowth,
        rules: vec![RuleId::HeapGrowth],
        severity,
        title,
        count: 0,
        key,
        group,
        stacks: site.stacks.iter().filter_map(|s| s.3).collect(),
        evidence,
        explanation: super::explain::heap_growth_explanation(),
        fix: super::explain::heap_growth_fix(),
        growth: None,
    }))
}

fn signed_bytes(delta: i64) -> String {
    if delta > 0 { format!("+{}", format::bytes(delta)) } else { format::bytes(delta) }
}

fn heap_facts(h: &HeapEvidence, first: &Capture, severity: Severity) -> Vec<String> {
    let mut facts = Vec::new();
    let [s0, s1] = h.inuse_space;
    let [o0, o1] = h.inuse_objects;
    let since =
        if first.source.path.is_empty() { "the first profile".to_owned() } else { first.source.path.clone() };
    facts.push(format!(
        "in use at {}: {} -> {} ({}), {} -> {} objects, since {since}",
        h.site,
        format::bytes(s0),
        format::bytes(s1),
        signed_bytes(s1 - s0),
        format::count(o0),
        format::count(o1),
    ));
    if !h.series.is_empty() {
        let row: Vec<String> = h.series.iter().map(|&v| format::bytes(v)).collect();
        facts.push(format!("in use along the series: {}", row.join(" -> ")));
    }
    let mut sure = format!(
        "about {:.0} -> {:.0} raw samples behind it (one per {} allocated on average): the growth is {:.1} standard deviations of sampling noise",
        h.raw_samples[0],
        h.raw_samples[1],
        format::bytes(h.period),
        h.z,
    );
    let _ = write!(
        sure,
        "; noise alone would show it with a chance of {} ({})",
        chance(h.p_noise),
        if severity == Severity::Likely { "a real growth" } else { "a second pair of profiles would tell" }
    );
    facts.push(sure);
    facts.push(format!(
        "{} of the in-use memory of the newest profile",
        format::percent(h.share_of_inuse, 1.0)
    ));
    let [a0, a1] = h.alloc_space;
    facts.push(format!(
        "allocated there since the program started: {} -> {} (alloc_space counts every allocation, freed or not; only in-use growth is a leak)",
        format::bytes(a0),
        format::bytes(a1)
    ));
    for s in &h.stacks {
        let leaf = s.frames.first().map_or("", String::as_str);
        facts.push(format!(
            "stack allocating in {leaf}: {} in use ({} objects)",
            signed_bytes(s.inuse_space[1] - s.inuse_space[0]),
            format::delta(s.inuse_objects[1] - s.inuse_objects[0])
        ));
    }
    facts
}

fn chance(p: f64) -> String {
    if p < 1e-6 { "below one in a million".to_owned() } else { format!("{p:.2e}") }
}

/// What a goroutine family's stacks hold at least: `count` minimum stacks.
pub(super) fn held_stacks(count: u64) -> (HeldMemory, String) {
    let bytes = count.saturating_mul(MIN_STACK_BYTES);
    let fact = format!(
        "they hold at least {} of goroutine stacks ({} x Go's {} minimum stack; an estimate: stacks grow as calls need)",
        format::bytes(i128::from(bytes)),
        format::count(count),
        format::bytes(i128::from(MIN_STACK_BYTES))
    );
    (HeldMemory { stack_bytes_min: bytes, heap: Vec::new() }, fact)
}

/// Frames of a goroutine finding that a heap stack may share to be held by it: the creator,
/// the start function, the wait site and the program's own frames, without frames every stack
/// has (`main.main`, the runtime's, request serving).
fn family_frames(goroutines: &Capture, finding: &Finding) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let key = &finding.key;
    let candidates = key
        .creator
        .iter()
        .chain([&key.start, &key.wait, &key.user])
        .chain(key.user_path.iter())
        .map(String::as_str)
        .chain(goroutines.stack_funcs(finding.group.stack).filter(|f| !funcname::is_standard_library(f)));
    for f in candidates {
        let generic = f.is_empty()
            || funcname::is_runtime(f)
            || f == "main.main"
            || is_wrapper(f)
            || super::knowledge::is_request_serving(f)
            || is_allocation_helper(f);
        if !generic && !out.iter().any(|o| o == f) {
            out.push(f.to_owned());
        }
    }
    out
}

/// Which goroutine family an allocation stack is attributed to, and through which frame.
#[derive(Clone)]
struct Claim {
    finding: usize,
    shared: String,
    /// Position of the shared frame on the allocation stack: the nearer the allocation, the
    /// more specific the code that keeps the memory.
    depth: usize,
    /// Every family whose frames the stack shares (the one it is attributed to included).
    contenders: Vec<usize>,
}

/// Joins the heap-growth findings of `heap` (a heap profile) with the goroutine findings of
/// `goroutines` (a capture of the same program): each goroutine finding whose frames a grown
/// allocation stack shares gets the growth as evidence and a fact, and the heap finding names
/// the goroutines that hold it.
///
/// Each allocation stack is counted for one family only, the one whose frame sits nearest the
/// allocation (a worker's own function before the handler that started it; on a tie the first,
/// which is the worse): memory counted for two families would add up to more than grew. The
/// other families that reach it say where it is counted, and the heap finding names them all
/// (a connection's read and write loops both hold the buffers `dialConn` made).
pub fn join(goroutines: &Capture, findings: &mut [Finding], heap: &Capture, heap_findings: &mut [Finding]) {
    // Per eligible finding: its index, the frames a heap stack may share, its own stack's
    // functions and its creator.
    type Family = (usize, Vec<String>, Vec<String>, Option<String>);
    let families: Vec<Family> = findings
        .iter()
        .enumerate()
        .filter(|(_, f)| f.evidence.heap.is_none() && f.evidence.async_work.is_none())
        .map(|(i, f)| {
            let own: Vec<String> = goroutines.stack_funcs(f.group.stack).map(str::to_owned).collect();
            (i, family_frames(goroutines, f), own, f.key.creator.clone())
        })
        .collect();
    for hf in heap_findings.iter_mut() {
        let Some(h) = hf.evidence.heap.as_mut() else { continue };
        let mut claims: Vec<Option<Claim>> = vec![None; h.stacks.len()];
        for (i, frames, own, creator) in &families {
            for (claim, stack) in claims.iter_mut().zip(&h.stacks) {
                // The family's own frames may be anywhere on the allocation stack (the goroutine
                // allocated it); its creator only where the creator is the site itself (dialConn
                // allocates the buffers its loops use), as a creator's callers are on the stack
                // of everything else it allocates too.
                let found = stack.frames.iter().enumerate().find(|(_, sf)| {
                    frames.contains(sf)
                        && (creator.as_ref() != Some(*sf) || own.contains(sf) || h.site == **sf)
                });
                let Some((depth, shared)) = found else { continue };
                *claim = Some(match claim.take() {
                    Some(mut c) => {
                        c.contenders.push(*i);
                        if depth < c.depth {
                            c.finding = *i;
                            c.shared.clone_from(shared);
                            c.depth = depth;
                        }
                        c
                    }
                    None => Claim { finding: *i, shared: shared.clone(), depth, contenders: vec![*i] },
                });
            }
        }
        let titles: Vec<String> = findings.iter().map(|f| f.title.clone()).collect();
        for (i, _, _, _) in &families {
            let mine: Vec<(&HeapStack, &Claim)> = h
                .stacks
                .iter()
                .zip(&claims)
                .filter_map(|(s, c)| c.as_ref().filter(|c| c.finding == *i).map(|c| (s, c)))
                .collect();
            // Stacks this family reaches that another family, nearer the allocation or seen
            // first, holds: said, not counted twice.
            let mut counted_elsewhere: Vec<usize> = claims
                .iter()
                .flatten()
                .filter(|c| c.finding != *i && c.contenders.contains(i))
                .map(|c| c.finding)
                .collect();
            counted_elsewhere.sort_unstable();
            counted_elsewhere.dedup();
            let Some(finding) = findings.get_mut(*i) else { continue };
            for other in counted_elsewhere {
                if let Some(title) = titles.get(other) {
                    push_fact(
                        &mut finding.evidence.facts,
                        format!(
                            "shares frames with the growth in {} (heap-growth: {}), which is counted once, on \"{title}\"",
                            heap.source.path, h.site
                        ),
                    );
                }
            }
            let Some(&(_, first)) =
                mine.iter().max_by_key(|(s, _)| s.inuse_space[1].saturating_sub(s.inuse_space[0]))
            else {
                continue;
            };
            let shared = first.shared.clone();
            let mut allocated_by: Vec<String> =
                mine.iter().filter_map(|(s, _)| s.frames.first().cloned()).collect();
            allocated_by.sort();
            allocated_by.dedup();
            let by: Vec<&str> = allocated_by.iter().map(String::as_str).filter(|f| *f != shared).collect();
            let where_ = if by.is_empty() {
                format!("allocated in {shared}")
            } else {
                format!("allocated by {} under {shared}", by.join(", "))
            };
            let space: i64 = mine.iter().map(|(s, _)| s.inuse_space[1] - s.inuse_space[0]).sum();
            let objects: i64 = mine.iter().map(|(s, _)| s.inuse_objects[1] - s.inuse_objects[0]).sum();
            let held = match &finding.growth {
                Some(g) if g.after > g.before => {
                    format!("the {} goroutines that grew here", format::count(g.after - g.before))
                }
                _ => format!("these {} goroutines", format::count(finding.count)),
            };
            push_fact(
                &mut finding.evidence.facts,
                format!(
                    "{} in use ({} objects) {where_} grew in {}: held by {held} (heap-growth: {})",
                    signed_bytes(space),
                    format::delta(objects),
                    heap.source.path,
                    h.site
                ),
            );
            let link = HeapLink {
                profile: heap.source.path.clone(),
                site: h.site.clone(),
                shared_frame: shared,
                allocated_by,
                inuse_space_delta: space,
                inuse_objects_delta: objects,
            };
            finding.evidence.memory.get_or_insert_with(HeldMemory::default).heap.push(link);
        }
        // The heap finding names every family that reaches it, in the findings' order.
        let mut holders: Vec<usize> =
            claims.iter().flatten().flat_map(|c| c.contenders.iter().copied()).collect();
        holders.sort_unstable();
        holders.dedup();
        for title in holders.iter().filter_map(|&i| titles.get(i)) {
            if !h.held_by.contains(title) {
                h.held_by.push(title.clone());
                hf.evidence.facts.push(format!("held by goroutines of the same program: {title}"));
            }
        }
    }
}

/// Adds a fact before the list of what is missing, which closes a finding's facts.
fn push_fact(facts: &mut Vec<String>, fact: String) {
    let at = facts.iter().position(|f| f.starts_with("missing:")).unwrap_or(facts.len());
    facts.insert(at, fact);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_samples_undo_go_scaling() {
        // Objects far larger than the period are all sampled: raw = objects.
        assert!((raw_samples(10, 10 << 20, 4096) - 10.0).abs() < 1e-6);
        // 1,000 objects of 512 B at the default period: each sampled with p = 1 - e^-(1/1024).
        let raw = raw_samples(1000, 512 * 1000, DEFAULT_PERIOD);
        assert!((raw - 1000.0 * (1.0 - (-1.0f64 / 1024.0).exp())).abs() < 1e-9, "{raw}");
        assert!(raw < 1.0, "a megabyte-sized scaled value can rest on less than one sample");
        assert!(raw_samples(0, 0, 4096).abs() < f64::EPSILON);
    }

    #[test]
    fn noise_chance_follows_the_normal_tail() {
        assert!((p_above(0.0) - 1.0).abs() < f64::EPSILON);
        assert!((p_above(1.0) - 0.158_655).abs() < 1e-5);
        assert!((p_above(3.0) - 0.001_349_9).abs() < 1e-6);
        assert!(p_above(8.0) < 1e-12);
    }

    #[test]
    fn sites_are_the_code_that_keeps_the_memory() {
        assert_eq!(site_function(&["main.holdScratch", "runtime.goexit"]), "main.holdScratch");
        assert_eq!(
            site_function(&[
                "bufio.NewReaderSize",
                "net/http.(*Transport).dialConn",
                "net/http.(*Transport).dialConnFor"
            ]),
            "net/http.(*Transport).dialConn"
        );
        assert_eq!(
            site_function(&["runtime.mallocgc", "runtime.newobject", "runtime.malg", "runtime.newproc1"]),
            "runtime.malg"
        );
        assert_eq!(site_function(&["bytes.growSlice", "main.render", "main.main"]), "main.render");
    }
}
