//! DevTools `.cpuprofile` (V8's CPU profiler output, `node --cpu-prof`, the Performance
//! panel's "Save profile"): a tree of call-frame nodes, the node hit by each sample, and the
//! time between samples. Samples become timed stacks with a count and a time column; the same
//! node table reads the `ProfileChunk` events V8 writes into Chrome traces.

use hashbrown::HashMap;

use super::chrome_trace::json::{Cursor, JsonError, JsonErrorKind, Kind};
use super::chrome_trace::{JsonGuess, guess_json};
use super::{Format, Input, Sniff};
use crate::error::ParseError;
use crate::input::Progress;
use crate::model::{Capture, FormatKind, Frame, FrameId, SampleType, StackId};

/// The DevTools CPU profile format.
pub struct CpuProfile;

impl Format for CpuProfile {
    fn kind(&self) -> FormatKind {
        FormatKind::DevtoolsCpuProfile
    }

    fn sniff(&self, head: &[u8], complete: bool) -> Sniff {
        match guess_json(head, complete) {
            JsonGuess::CpuProfile => Sniff::Yes,
            JsonGuess::NeedMore => Sniff::NeedMore,
            JsonGuess::Trace | JsonGuess::Other => Sniff::No,
        }
    }

    fn parse(&self, input: &Input<'_>) -> Result<Vec<Capture>, ParseError> {
        let mut capture = parse_bytes(input.bytes, input.path, input.progress)?;
        capture.chrome_mut().raw = Some(input.shared.clone());
        Ok(vec![capture])
    }
}

/// A V8 call frame.
#[derive(Clone, Debug, Default)]
pub(crate) struct CallFrame {
    pub function_name: String,
    pub url: String,
    /// 0-based, -1 when unknown.
    pub line: i64,
    /// 0-based, -1 when unknown.
    pub column: i64,
}

impl CallFrame {
    /// Reads a `callFrame` object at the cursor.
    pub(crate) fn read(c: &mut Cursor<'_>) -> Result<Self, JsonError> {
        let mut f = CallFrame { line: -1, column: -1, ..CallFrame::default() };
        c.object(|c, key| {
            match key.raw {
                b"functionName" if c.kind()? == Kind::String => {
                    f.function_name = c.string()?.text().into_owned();
                }
                b"url" if c.kind()? == Kind::String => f.url = c.string()?.text().into_owned(),
                b"lineNumber" => f.line = c.int()?.unwrap_or(-1),
                b"columnNumber" => f.column = c.int()?.unwrap_or(-1),
                _ => {
                    c.skip_value()?;
                }
            }
            Ok(())
        })?;
        Ok(f)
    }
}

/// V8 profile nodes by id, with their parents, turned into interned stacks on demand.
#[derive(Default)]
pub(crate) struct NodeTable {
    nodes: HashMap<u64, (FrameId, Option<u64>, bool)>,
    stacks: HashMap<u64, StackId>,
    frames: HashMap<(String, String, i64, i64), FrameId>,
}

/// Longest parent chain followed; a longer one is a cycle or garbage.
const MAX_STACK_DEPTH: usize = 16_384;

impl NodeTable {
    /// Adds (or replaces) a node. The root node (`(root)`) is kept out of stacks, as
    /// DevTools does.
    pub(crate) fn add(&mut self, cap: &mut Capture, id: u64, frame: &CallFrame, parent: Option<u64>) {
        let is_root = frame.function_name == "(root)" && frame.url.is_empty();
        let key = (frame.function_name.clone(), frame.url.clone(), frame.line, frame.column);
        let frame_id = if let Some(&f) = self.frames.get(&key) {
            f
        } else {
            let name = if frame.function_name.is_empty() { "(anonymous)" } else { &frame.function_name };
            let f = cap.tables.frame_id(Frame {
                func: cap.strings.intern(name),
                file: cap.strings.intern(&frame.url),
                line: u32::try_from(frame.line + 1).unwrap_or(0),
                column: u32::try_from(frame.column + 1).unwrap_or(0),
            });
            self.frames.insert(key, f);
            f
        };
        let keep_parent = self.nodes.get(&id).and_then(|n| n.1);
        self.nodes.insert(id, (frame_id, parent.or(keep_parent), is_root));
        self.stacks.remove(&id);
    }

    /// Sets the parent of `child` (from a `children` list).
    pub(crate) fn set_parent(&mut self, child: u64, parent: u64) {
        match self.nodes.get_mut(&child) {
            Some(n) => n.1 = Some(parent),
            None => {
                // The child comes later in the list; remember its parent with a placeholder.
                self.nodes.insert(child, (FrameId::from_index(u32::MAX), Some(parent), false));
            }
        }
    }

    /// The stack of node `id`, innermost first; `None` for an unknown node.
    pub(crate) fn stack(&mut self, cap: &mut Capture, id: u64) -> Option<StackId> {
        if let Some(&s) = self.stacks.get(&id) {
            return Some(s);
        }
        self.nodes.get(&id)?;
        let mut frames: Vec<FrameId> = Vec::new();
        let mut at = Some(id);
        // Count steps, not frames: a cycle through nodes that add no frame (a `(root)` that
        // names itself as parent) must end too.
        for _ in 0..MAX_STACK_DEPTH {
            let Some(n) = at else { break };
            let Some(&(frame, parent, is_root)) = self.nodes.get(&n) else { break };
            if !is_root && frame != FrameId::from_index(u32::MAX) {
                frames.push(frame);
            }
            at = parent;
        }
        let s = cap.tables.stack_id(&frames);
        self.stacks.insert(id, s);
        Some(s)
    }
}

/// The sample columns every V8 profile gets: a count and the time each sample stands for.
pub(crate) fn v8_sample_types(cap: &mut Capture) {
    if cap.samples.types.is_empty() {
        let samples = cap.strings.intern("samples");
        let count = cap.strings.intern("count");
        let time = cap.strings.intern("time");
        let ns = cap.strings.intern("nanoseconds");
        cap.samples.types =
            vec![SampleType { kind: samples, unit: count }, SampleType { kind: time, unit: ns }];
        cap.samples.default_type = 1;
    }
}

/// Appends timed samples: `nodes[i]` at `times_ns[i]`, each standing for the time until the
/// next one (the last until `end_ns`, else the median gap).
pub(crate) fn push_timed_samples(
    cap: &mut Capture,
    table: &mut NodeTable,
    nodes: &[i64],
    times_ns: &[i64],
    end_ns: Option<i64>,
    task: Option<u32>,
    unknown: &mut u64,
) {
    v8_sample_types(cap);
    let mut gaps: Vec<i64> = times_ns
        .windows(2)
        .map(|w| w.get(1).copied().unwrap_or(0) - w.first().copied().unwrap_or(0))
        .collect();
    gaps.sort_unstable();
    let typical = gaps.get(gaps.len() / 2).copied().unwrap_or(0);
    for (i, (&node, &t)) in nodes.iter().zip(times_ns).enumerate() {
        let Some(stack) = table.stack(cap, node as u64) else {
            *unknown += 1;
            continue;
        };
        let next = times_ns.get(i + 1).copied().or(end_ns.filter(|&e| e >= t)).unwrap_or(t + typical);
        cap.samples.push(stack, &[1, (next - t).max(0)], crate::model::LabelSetId::EMPTY);
        cap.samples.time_ns.push(t);
        if let Some(task) = task {
            cap.samples.task.push(task);
        }
    }
}

/// Parses a `.cpuprofile`.
pub fn parse_bytes(bytes: &[u8], path: &str, progress: &Progress) -> Result<Capture, ParseError> {
    let kind = FormatKind::DevtoolsCpuProfile;
    let mut cap = Capture::new(path, kind);
    let mut table = NodeTable::default();
    let mut start_micros: Option<i64> = None;
    let mut end_micros: Option<i64> = None;
    let mut samples: Vec<i64> = Vec::new();
    let mut deltas: Vec<i64> = Vec::new();
    let mut node_count = 0u64;
    let mut hits: Vec<(u64, i64)> = Vec::new();
    let mut c = Cursor::new(bytes, super::chrome_trace::skip_bom(bytes));
    if c.skip_ws() != Some(b'{') {
        return Err(ParseError::at_offset(kind, c.pos as u64, "a .cpuprofile is a JSON object"));
    }
    let result = c.object(|c, key| {
        match key.raw {
            b"nodes" => c.array(|c| {
                if let Some(hit) = read_node(c, &mut cap, &mut table)?
                    && hit.1 > 0
                {
                    hits.push(hit);
                }
                node_count += 1;
                if node_count.is_multiple_of(4096) && progress.is_cancelled() {
                    return Err(JsonError { kind: JsonErrorKind::Eof, offset: c.pos });
                }
                Ok(())
            })?,
            b"startTime" => start_micros = c.int()?,
            b"endTime" => end_micros = c.int()?,
            b"samples" => super::chrome_trace::chunk::int_array(c, &mut samples)?,
            b"timeDeltas" => super::chrome_trace::chunk::int_array(c, &mut deltas)?,
            _ => {
                c.skip_value()?;
            }
        }
        Ok(())
    });
    if progress.is_cancelled() {
        return Err(super::cancelled(kind));
    }
    if let Err(e) = result {
        if node_count == 0 {
            return Err(ParseError::at_offset(kind, e.offset as u64, format!("no profile nodes read: {e}")));
        }
        cap.warnings.at_offset(
            e.offset as u64,
            format!("profile cut off or damaged here ({e}); kept what came before"),
        );
    }
    if samples.len() != deltas.len() {
        cap.warnings.general(format!(
            "{} samples but {} time deltas; only the first {} are timed",
            samples.len(),
            deltas.len(),
            samples.len().min(deltas.len())
        ));
    }
    let start_ns = start_micros.unwrap_or(0).saturating_mul(1000);
    let mut t = start_ns;
    let times: Vec<i64> = deltas
        .iter()
        .map(|&d| {
            t = t.saturating_add(d.saturating_mul(1000));
            t
        })
        .collect();
    let n = samples.len().min(times.len());
    let end_ns = end_micros.map(|e| e.saturating_mul(1000));
    let mut unknown = 0;
    push_timed_samples(
        &mut cap,
        &mut table,
        samples.get(..n).unwrap_or_default(),
        times.get(..n).unwrap_or_default(),
        end_ns,
        None,
        &mut unknown,
    );
    if unknown > 0 {
        cap.warnings.general(format!("{unknown} samples name no known node; skipped"));
    }
    if samples.is_empty() && !hits.is_empty() {
        // Profiles from before V8 recorded samples carry only per-node hit counts: untimed
        // samples, one row per node.
        v8_sample_types(&mut cap);
        for (node, count) in hits {
            if let Some(stack) = table.stack(&mut cap, node) {
                cap.samples.push(stack, &[count, 0], crate::model::LabelSetId::EMPTY);
            }
        }
        cap.samples.default_type = 0;
        cap.warnings.general("no samples in the profile; per-node hit counts used instead (no timeline)");
    }
    let last = times.get(n.saturating_sub(1)).copied().unwrap_or(start_ns);
    let end = end_ns.unwrap_or(last).max(last);
    cap.time_range_ns = Some((start_ns, end));
    cap.source.duration_ns = Some(end - start_ns);
    cap.source.profile_type = Some("cpu".to_owned());
    // For a profile, the "events" are its nodes and samples.
    cap.chrome_mut().event_stats.events = node_count;
    cap.chrome_mut().event_stats.by_kind =
        vec![("nodes".to_owned(), node_count), ("samples".to_owned(), samples.len() as u64)];
    progress.advance(bytes.len() as u64);
    Ok(cap)
}

/// Reads one V8 profile node into `table`: the one reader for both places V8 writes nodes, a
/// `.cpuprofile`'s `nodes` (children listed, with hit counts) and a trace's `ProfileChunk`
/// events (parent given, no counts). Returns the node's id and hit count.
pub(crate) fn read_node(
    c: &mut Cursor<'_>,
    cap: &mut Capture,
    table: &mut NodeTable,
) -> Result<Option<(u64, i64)>, JsonError> {
    let mut id = None;
    let mut hit_count = 0;
    let mut frame = CallFrame::default();
    let mut parent = None;
    let mut children: Vec<i64> = Vec::new();
    c.object(|c, key| {
        match key.raw {
            b"id" => id = c.int()?,
            b"callFrame" if c.kind()? == Kind::Object => frame = CallFrame::read(c)?,
            b"parent" => parent = c.int()?,
            b"hitCount" => hit_count = c.int()?.unwrap_or(0),
            b"children" if c.kind()? == Kind::Array => {
                super::chrome_trace::chunk::int_array(c, &mut children)?;
            }
            _ => {
                c.skip_value()?;
            }
        }
        Ok(())
    })?;
    let Some(id) = id else { return Ok(None) };
    table.add(cap, id as u64, &frame, parent.map(|p| p as u64));
    for child in children {
        table.set_parent(child as u64, id as u64);
    }
    Ok(Some((id as u64, hit_count)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROFILE: &str = r#"{"nodes":[
        {"id":1,"callFrame":{"functionName":"(root)","scriptId":"0","url":"","lineNumber":-1,"columnNumber":-1},"hitCount":0,"children":[2,3]},
        {"id":2,"callFrame":{"functionName":"(idle)","scriptId":"0","url":"","lineNumber":-1,"columnNumber":-1},"hitCount":2},
        {"id":3,"callFrame":{"functionName":"main","scriptId":"5","url":"file:///a.js","lineNumber":9,"columnNumber":4},"hitCount":0,"children":[4]},
        {"id":4,"callFrame":{"functionName":"","scriptId":"5","url":"file:///a.js","lineNumber":20,"columnNumber":0},"hitCount":1}],
        "startTime":1000,"endTime":1400,"samples":[2,4,2],"timeDeltas":[10,100,50]}"#;

    #[test]
    fn samples_get_stacks_and_times() {
        let cap = parse_bytes(PROFILE.as_bytes(), "t", &Progress::new()).unwrap();
        assert_eq!(cap.samples.len(), 3);
        assert_eq!(cap.samples.time_ns, [1_010_000, 1_110_000, 1_160_000]);
        assert_eq!(cap.samples.value(0, 1), 100_000);
        assert_eq!(cap.samples.value(2, 1), 240_000);
        let funcs: Vec<&str> = cap.stack_funcs(cap.samples.stack[1]).collect();
        assert_eq!(funcs, ["(anonymous)", "main"]);
        let leaf = cap.tables.frame(cap.tables.stack(cap.samples.stack[1])[0]);
        assert_eq!((leaf.line, leaf.column, cap.str(leaf.file)), (21, 1, "file:///a.js"));
        assert_eq!(cap.source.duration_ns, Some(400_000));
        assert!(cap.warnings.is_empty());
    }

    #[test]
    fn hit_counts_stand_in_for_missing_samples() {
        let text = br#"{"nodes":[{"id":1,"callFrame":{"functionName":"(root)"},"children":[2]},
            {"id":2,"hitCount":5,"callFrame":{"functionName":"f","url":"a.js"}}],"startTime":0,"endTime":10}"#;
        let cap = parse_bytes(text, "t", &Progress::new()).unwrap();
        assert_eq!(cap.samples.len(), 1);
        assert_eq!((cap.samples.value(0, 0), cap.samples.default_type), (5, 0));
        assert!(cap.samples.time_ns.is_empty());
    }

    /// Found by fuzzing: a root node that is its own parent looped forever.
    #[test]
    fn regression_root_that_is_its_own_parent() {
        let text = br#"{"nodes":[{"id":1,"parent":1,"callFrame":{"functionName":"(root)"}},
            {"id":2,"parent":3,"callFrame":{"functionName":"a"}},{"id":3,"parent":2,"callFrame":{"functionName":"b"}}],
            "samples":[1,2],"timeDeltas":[1,1]}"#;
        let cap = parse_bytes(text, "t", &Progress::new()).unwrap();
        assert_eq!(cap.samples.len(), 2);
        assert!(cap.tables.stack(cap.samples.stack[0]).is_empty());
        assert_eq!(cap.tables.stack(cap.samples.stack[1]).len(), MAX_STACK_DEPTH);
    }

    #[test]
    fn cut_off_profile_keeps_nodes() {
        let cut = &PROFILE[..PROFILE.find("\"samples\"").unwrap() + 14];
        let cap = parse_bytes(cut.as_bytes(), "t", &Progress::new()).unwrap();
        assert!(!cap.warnings.is_empty());
        assert!(parse_bytes(b"{\"nodes\":[", "t", &Progress::new()).is_err());
        assert!(parse_bytes(b"[]", "t", &Progress::new()).is_err());
    }
}
