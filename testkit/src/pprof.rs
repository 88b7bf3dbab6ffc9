//! Generators of realistic profiles for the benchmarks, so that they need nothing from outside
//! the repository. Deterministic: the same sizes give the same bytes on every run.
//!
//! The shape follows what Go writes: functions spread over packages, locations of one to three
//! lines (inlining), stacks drawn from a call tree so that they share prefixes the way real
//! programs do, one sample per distinct stack (Go aggregates), values `[count, nanoseconds]`,
//! pprof labels on a part of the samples, and the string table at the end.

// Bench-only code: indices are bounded by construction and each bench uses part of it.
#![allow(dead_code, clippy::indexing_slicing)]

use std::fmt::Write as _;

use leakscope_core::formats::pprof::proto::{
    Function, Label, Line, Location, Mapping, Profile, Sample, ValueType,
};
use prost::Message;

use crate::rng::Rng;

struct Strings(Vec<String>, std::collections::HashMap<String, i64>);

impl Strings {
    fn new() -> Self {
        let mut s = Self(Vec::new(), std::collections::HashMap::new());
        s.id("");
        s
    }

    fn id(&mut self, text: &str) -> i64 {
        if let Some(&i) = self.1.get(text) {
            return i;
        }
        let i = self.0.len() as i64;
        self.0.push(text.to_owned());
        self.1.insert(text.to_owned(), i);
        i
    }
}

/// Function names of a plausible Go service: `pkg.(*Type).Method` over a few dozen packages.
fn function_name(rng: &mut Rng, i: usize) -> String {
    const PKGS: [&str; 12] = [
        "runtime",
        "net/http",
        "encoding/json",
        "database/sql",
        "github.com/acme/shop/internal/cart",
        "github.com/acme/shop/internal/payments",
        "google.golang.org/grpc",
        "crypto/tls",
        "bufio",
        "compress/flate",
        "main",
        "github.com/acme/shop/pkg/cache",
    ];
    let pkg = PKGS[rng.below(PKGS.len() as u64) as usize];
    match rng.below(3) {
        0 => format!("{pkg}.(*Type{}).Method{i}", i % 17),
        1 => format!("{pkg}.func{i}"),
        _ => format!("{pkg}.handle{i}.func{}", i % 5 + 1),
    }
}

/// The call tree shared by the generators: each location has a few callees.
struct Tree {
    functions: Vec<Function>,
    locations: Vec<Location>,
    children: Vec<Vec<u64>>,
    roots: Vec<u64>,
}

fn tree(rng: &mut Rng, strings: &mut Strings, n_functions: usize, n_locations: usize) -> Tree {
    let functions: Vec<Function> = (0..n_functions)
        .map(|i| {
            let name = function_name(rng, i);
            let pkg_dir = name.split('.').next().unwrap_or("main").to_owned();
            Function {
                id: i as u64 + 1,
                name: strings.id(&name),
                system_name: strings.id(&name),
                filename: strings.id(&format!("/src/{pkg_dir}/file{}.go", i % 23)),
                start_line: rng.below(2000) as i64 + 1,
            }
        })
        .collect();
    let locations: Vec<Location> = (0..n_locations)
        .map(|i| {
            // One in five locations holds inlined calls.
            let lines = if rng.below(5) == 0 { 2 + rng.below(2) } else { 1 };
            let line = (0..lines)
                .map(|_| Line {
                    function_id: rng.below(n_functions as u64) + 1,
                    line: rng.below(3000) as i64 + 1,
                    column: 0,
                })
                .collect();
            Location {
                id: i as u64 + 1,
                mapping_id: 1,
                address: 0x40_0000 + i as u64 * 24,
                line,
                is_folded: false,
            }
        })
        .collect();
    let children =
        (0..n_locations).map(|_| (0..4).map(|_| rng.below(n_locations as u64) + 1).collect()).collect();
    let roots = (0..64).map(|_| rng.below(n_locations as u64) + 1).collect();
    Tree { functions, locations, children, roots }
}

/// A stack of `depth` locations from a root down the tree, leaf first.
fn stack(rng: &mut Rng, t: &Tree, depth: usize) -> Vec<u64> {
    let mut at = t.roots[rng.below(t.roots.len() as u64) as usize];
    let mut out = vec![at];
    for _ in 1..depth {
        let kids = &t.children[at as usize - 1];
        at = kids[rng.below(kids.len() as u64) as usize];
        out.push(at);
    }
    out.reverse();
    out
}

fn finish(mut p: Profile, strings: Strings, rng: &mut Rng) -> Vec<u8> {
    p.mapping = vec![Mapping {
        id: 1,
        memory_start: 0x40_0000,
        memory_limit: 0x80_0000,
        filename: 0,
        has_functions: true,
        has_filenames: true,
        has_line_numbers: true,
        has_inline_frames: true,
        ..Mapping::default()
    }];
    p.time_nanos = 1_763_683_803_000_000_000 + rng.below(1_000_000) as i64;
    p.string_table = strings.0;
    p.encode_to_vec()
}

/// A CPU profile of about `target_bytes`: many distinct stacks 8 to 64 deep, each one sample
/// of `[samples/count, cpu/nanoseconds]`, a quarter of them with pprof labels.
pub fn cpu_profile(target_bytes: usize) -> Vec<u8> {
    let mut rng = Rng::new(0x5eed_c0de);
    let mut strings = Strings::new();
    let t = tree(&mut rng, &mut strings, 6000, 30_000);
    let mut p = Profile {
        sample_type: vec![
            ValueType { r#type: strings.id("samples"), unit: strings.id("count") },
            ValueType { r#type: strings.id("cpu"), unit: strings.id("nanoseconds") },
        ],
        period_type: Some(ValueType { r#type: strings.id("cpu"), unit: strings.id("nanoseconds") }),
        period: 10_000_000,
        duration_nanos: 30_000_000_000,
        ..Profile::default()
    };
    let handler = strings.id("handler");
    let routes: Vec<i64> = (0..20).map(|i| strings.id(&format!("/api/v1/route{i}"))).collect();
    let tenant = strings.id("tenant");
    let mut bytes = 0usize;
    while bytes < target_bytes {
        let depth = 8 + rng.below(57) as usize;
        let n = 1 + rng.below(20) as i64;
        let label = if rng.below(4) == 0 {
            vec![
                Label { key: handler, str: routes[rng.below(20) as usize], num: 0, num_unit: 0 },
                Label { key: tenant, str: 0, num: rng.below(500) as i64, num_unit: 0 },
            ]
        } else {
            Vec::new()
        };
        let s = Sample { location_id: stack(&mut rng, &t, depth), value: vec![n, n * 10_000_000], label };
        bytes += s.encoded_len() + 4;
        p.sample.push(s);
    }
    p.function = t.functions;
    p.location = t.locations;
    finish(p, strings, &mut rng)
}

/// Goroutine records: (count, labels, stack of location ids), the way a server with many
/// goroutines parked in a few hundred places looks.
fn goroutine_records(rng: &mut Rng, t: &Tree, records: usize) -> Vec<(i64, Option<u32>, Vec<u64>)> {
    (0..records)
        .map(|_| {
            let depth = 6 + rng.below(30) as usize;
            // Most records are small; a few hold thousands of leaked goroutines.
            let count =
                if rng.below(50) == 0 { 1000 + rng.below(20_000) as i64 } else { 1 + rng.below(8) as i64 };
            let label = (rng.below(3) == 0).then(|| rng.below(40) as u32);
            (count, label, stack(rng, t, depth))
        })
        .collect()
}

/// A goroutine profile in protobuf with `records` samples.
pub fn goroutine_profile(records: usize) -> Vec<u8> {
    let mut rng = Rng::new(0x6012_0071);
    let mut strings = Strings::new();
    let t = tree(&mut rng, &mut strings, 3000, 8000);
    let mut p = Profile {
        sample_type: vec![ValueType { r#type: strings.id("goroutine"), unit: strings.id("count") }],
        period_type: Some(ValueType { r#type: strings.id("goroutine"), unit: strings.id("count") }),
        period: 1,
        ..Profile::default()
    };
    let key = strings.id("request");
    for (count, label, stack) in goroutine_records(&mut rng, &t, records) {
        let label = label
            .map(|v| vec![Label { key, str: strings.id(&format!("req-{v}")), num: 0, num_unit: 0 }])
            .unwrap_or_default();
        p.sample.push(Sample { location_id: stack, value: vec![count], label });
    }
    p.function = t.functions;
    p.location = t.locations;
    finish(p, strings, &mut rng)
}

/// The same kind of profile as `debug=1` text, with `records` records.
pub fn goroutine_profile_text(records: usize) -> Vec<u8> {
    let mut rng = Rng::new(0x6012_0071);
    let mut strings = Strings::new();
    let t = tree(&mut rng, &mut strings, 3000, 8000);
    let recs = goroutine_records(&mut rng, &t, records);
    let total: i64 = recs.iter().map(|r| r.0).sum();
    let mut out = String::with_capacity(records * 600);
    let _ = writeln!(out, "goroutine profile: total {total}");
    for (count, label, stack) in recs {
        let _ = write!(out, "{count} @");
        for id in &stack {
            let _ = write!(out, " {:#x}", t.locations[*id as usize - 1].address + 1);
        }
        out.push('\n');
        if let Some(v) = label {
            let _ = writeln!(out, "# labels: {{\"request\":\"req-{v}\"}}");
        }
        for id in &stack {
            let loc = &t.locations[*id as usize - 1];
            for line in &loc.line {
                let f = &t.functions[line.function_id as usize - 1];
                let _ = writeln!(
                    out,
                    "#\t{:#x}\t{}+{:#x}\t\t{}:{}",
                    loc.address,
                    strings.0[f.name as usize],
                    loc.address % 0x400,
                    strings.0[f.filename as usize],
                    line.line
                );
            }
        }
        out.push('\n');
    }
    out.into_bytes()
}
