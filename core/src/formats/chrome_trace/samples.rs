//! Sampled stacks inside traces: `P` events pointing into the `stackFrames` dictionary (or
//! carrying a `stack` array), the object form's `samples` array, and V8's
//! `Profile`/`ProfileChunk` events (a CPU profile streamed in pieces).

use std::ops::Range;

use hashbrown::HashMap;

use super::chunk::{ChunkOut, ProfileKind};
use super::event::RawId;
use super::json::{Cursor, JsonError, Kind};
use crate::formats::cpuprofile::{NodeTable, push_timed_samples, read_node};
use crate::model::{Capture, Frame, FrameId, LabelSetId, StackId, StrId};

/// What the document level found besides the events.
#[derive(Clone, Debug, Default)]
pub struct Top {
    /// Byte range of the `stackFrames` object.
    pub stack_frames: Option<Range<usize>>,
    /// Byte range of the `samples` array.
    pub samples: Option<Range<usize>>,
}

/// The `stackFrames` dictionary: id → (name, parent).
#[derive(Default)]
struct StackFrames {
    frames: HashMap<u64, (FrameId, Option<u64>)>,
    stacks: HashMap<u64, StackId>,
}

const MAX_DEPTH: usize = 16_384;

impl StackFrames {
    fn read(bytes: &[u8], range: &Range<usize>, cap: &mut Capture) -> Result<Self, JsonError> {
        let mut out = StackFrames::default();
        let mut c = Cursor::new(bytes, range.start);
        c.object(|c, id| {
            let key = RawId::Str(id).key();
            if c.kind()? != Kind::Object {
                return c.skip_value().map(|_| ());
            }
            let mut name = String::new();
            let mut category = String::new();
            let mut parent = None;
            c.object(|c, k| {
                match k.raw {
                    b"name" if c.kind()? == Kind::String => name = c.string()?.text().into_owned(),
                    b"category" if c.kind()? == Kind::String => category = c.string()?.text().into_owned(),
                    b"parent" => {
                        parent = match c.kind()? {
                            Kind::String => Some(RawId::Str(c.string()?).key()),
                            Kind::Number => Some(RawId::Num(c.number_raw()?).key()),
                            _ => {
                                c.skip_value()?;
                                None
                            }
                        };
                    }
                    _ => {
                        c.skip_value()?;
                    }
                }
                Ok(())
            })?;
            let frame = cap.tables.frame_id(Frame {
                func: cap.strings.intern(&name),
                file: cap.strings.intern(&category),
                ..Frame::default()
            });
            out.frames.insert(key, (frame, parent));
            Ok(())
        })?;
        Ok(out)
    }

    fn stack(&mut self, cap: &mut Capture, sf: u64) -> Option<StackId> {
        if let Some(&s) = self.stacks.get(&sf) {
            return Some(s);
        }
        let mut frames = Vec::new();
        let mut at = Some(sf);
        // A parent chain that cycles ends at the depth limit.
        for _ in 0..MAX_DEPTH {
            let Some(id) = at else { break };
            let Some(&(frame, parent)) = self.frames.get(&id) else { break };
            frames.push(frame);
            at = parent;
        }
        if frames.is_empty() {
            return None;
        }
        let s = cap.tables.stack_id(&frames);
        self.stacks.insert(sf, s);
        Some(s)
    }
}

/// A V8 profile streamed as `Profile` + `ProfileChunk` events.
struct V8Profile {
    nodes: NodeTable,
    task: Option<u32>,
    /// Time of the last sample so far; chunks continue from it.
    clock_ns: i64,
    samples: Vec<i64>,
    times_ns: Vec<i64>,
}

/// Collects every kind of sample into `cap.samples`.
pub(super) fn collect(
    bytes: &[u8],
    cap: &mut Capture,
    chunks: &[ChunkOut<'_>],
    global: &impl Fn(usize, u32) -> StrId,
    thread_task: &impl Fn(u64, u64) -> Option<u32>,
    top: &Top,
) {
    let mut frames = match &top.stack_frames {
        Some(r) => StackFrames::read(bytes, r, cap).unwrap_or_else(|e| {
            cap.warnings.at_offset(e.offset as u64, format!("stackFrames unreadable from here: {e}"));
            StackFrames::default()
        }),
        None => StackFrames::default(),
    };
    let mut plain: Vec<(StackId, i64, Option<u32>, i64)> = Vec::new();
    let mut unresolved = 0u64;
    let mut profiles: HashMap<(u64, u64), V8Profile> = HashMap::new();
    let mut profile_order: Vec<(u64, u64)> = Vec::new();
    for (ci, ch) in chunks.iter().enumerate() {
        for s in &ch.samples {
            let task = thread_task(s.pid, s.tid);
            match s.profile {
                ProfileKind::Sample => {
                    let stack = match (s.sf, s.payload) {
                        (Some(sf), _) => frames.stack(cap, sf),
                        (None, Some((a, b))) => inline_stack(bytes, a..b, cap),
                        (None, None) => None,
                    };
                    let stack = stack.or_else(|| {
                        // A sample with only a name is a one-frame stack.
                        let name = global(ci, s.name);
                        (name != StrId::EMPTY)
                            .then(|| cap.tables.frame_id(Frame { func: name, ..Frame::default() }))
                            .map(|f| cap.tables.stack_id(&[f]))
                    });
                    match stack {
                        Some(stack) => plain.push((stack, s.ts_ns, task, 1)),
                        None => unresolved += 1,
                    }
                }
                ProfileKind::Header | ProfileKind::Chunk => {
                    let key = (s.pid, s.id);
                    let p = profiles.entry(key).or_insert_with(|| {
                        profile_order.push(key);
                        V8Profile {
                            nodes: NodeTable::default(),
                            task,
                            clock_ns: s.ts_ns,
                            samples: Vec::new(),
                            times_ns: Vec::new(),
                        }
                    });
                    if let Some((a, b)) = s.payload
                        && let Err(e) = read_profile_event(bytes, a..b, s.profile, p, cap)
                    {
                        cap.warnings.at_offset(e.offset as u64, format!("unreadable V8 profile event: {e}"));
                    }
                }
            }
        }
    }
    if let Some(r) = &top.samples
        && let Err(e) = read_samples_array(bytes, r, cap, &mut frames, &mut plain)
    {
        cap.warnings.at_offset(e.offset as u64, format!("samples array unreadable from here: {e}"));
    }
    if unresolved > 0 {
        cap.warnings.general(format!("{unresolved} samples without a resolvable stack skipped"));
    }
    if plain.is_empty() && profiles.is_empty() {
        return;
    }
    crate::formats::cpuprofile::v8_sample_types(cap);
    let with_tasks = plain.iter().all(|p| p.2.is_some()) && profiles.values().all(|p| p.task.is_some());
    for (stack, ts, task, weight) in plain {
        cap.samples.push(stack, &[weight, 0], LabelSetId::EMPTY);
        cap.samples.time_ns.push(ts);
        if with_tasks && let Some(t) = task {
            cap.samples.task.push(t);
        }
    }
    let mut unknown = 0;
    for key in profile_order {
        let Some(mut p) = profiles.remove(&key) else { continue };
        let task = if with_tasks { p.task } else { None };
        push_timed_samples(cap, &mut p.nodes, &p.samples, &p.times_ns, None, task, &mut unknown);
    }
    if unknown > 0 {
        cap.warnings.general(format!("{unknown} V8 profile samples name no known node; skipped"));
    }
}

fn inline_stack(bytes: &[u8], range: Range<usize>, cap: &mut Capture) -> Option<StackId> {
    let mut names: Vec<String> = Vec::new();
    let mut c = Cursor::new(bytes, range.start);
    c.array(|c| {
        if c.kind()? == Kind::String {
            names.push(c.string()?.text().into_owned());
        } else {
            let r = c.skip_value()?;
            names.push(String::from_utf8_lossy(bytes.get(r).unwrap_or_default()).into_owned());
        }
        Ok(())
    })
    .ok()?;
    if names.is_empty() {
        return None;
    }
    // `stack` lists frames outermost first.
    let frames: Vec<FrameId> = names
        .iter()
        .rev()
        .map(|n| {
            let func = cap.strings.intern(n);
            cap.tables.frame_id(Frame { func, ..Frame::default() })
        })
        .collect();
    Some(cap.tables.stack_id(&frames))
}

fn read_samples_array(
    bytes: &[u8],
    range: &Range<usize>,
    cap: &mut Capture,
    frames: &mut StackFrames,
    out: &mut Vec<(StackId, i64, Option<u32>, i64)>,
) -> Result<(), JsonError> {
    let mut c = Cursor::new(bytes, range.start);
    c.array(|c| {
        let mut sf = None;
        let mut ts = None;
        let mut weight = 1;
        c.object(|c, k| {
            match k.raw {
                b"sf" => {
                    sf = match c.kind()? {
                        Kind::String => Some(RawId::Str(c.string()?).key()),
                        Kind::Number => Some(RawId::Num(c.number_raw()?).key()),
                        _ => {
                            c.skip_value()?;
                            None
                        }
                    };
                }
                b"ts" if c.kind()? == Kind::Number => {
                    ts = super::json::parse_scaled(c.number_raw()?, super::event::NS_PER_US);
                }
                b"weight" => weight = c.int()?.unwrap_or(1),
                _ => {
                    c.skip_value()?;
                }
            }
            Ok(())
        })?;
        if let (Some(sf), Some(ts)) = (sf, ts)
            && let Some(stack) = frames.stack(cap, sf)
        {
            out.push((stack, ts, None, weight));
        }
        Ok(())
    })
}

fn read_profile_event(
    bytes: &[u8],
    args: Range<usize>,
    kind: ProfileKind,
    p: &mut V8Profile,
    cap: &mut Capture,
) -> Result<(), JsonError> {
    let mut c = Cursor::new(bytes, args.start);
    c.object(|c, k| {
        if !k.is("data") || c.kind()? != Kind::Object {
            return c.skip_value().map(|_| ());
        }
        c.object(|c, k| {
            match k.raw {
                b"startTime" if kind == ProfileKind::Header => {
                    if let Some(t) = c.int()? {
                        p.clock_ns = t.saturating_mul(1000);
                    }
                }
                b"cpuProfile" if c.kind()? == Kind::Object => {
                    c.object(|c, k| match k.raw {
                        b"nodes" if c.kind()? == Kind::Array => {
                            c.array(|c| read_node(c, cap, &mut p.nodes).map(|_| ()))
                        }
                        b"samples" if c.kind()? == Kind::Array => super::chunk::int_array(c, &mut p.samples),
                        _ => c.skip_value().map(|_| ()),
                    })?;
                }
                b"timeDeltas" if c.kind()? == Kind::Array => {
                    let mut deltas = Vec::new();
                    super::chunk::int_array(c, &mut deltas)?;
                    for d in deltas {
                        p.clock_ns = p.clock_ns.saturating_add(d.saturating_mul(1000));
                        p.times_ns.push(p.clock_ns);
                    }
                }
                _ => {
                    c.skip_value()?;
                }
            }
            Ok(())
        })
    })?;
    // Samples and deltas come in pairs; a chunk with fewer deltas leaves the extras untimed.
    let n = p.samples.len().min(p.times_ns.len());
    p.samples.truncate(n.max(p.times_ns.len().min(p.samples.len())));
    p.times_ns.truncate(p.samples.len());
    Ok(())
}
