//! pprof's four stack filters, applied to one stack of function names at a time, so every
//! stack view (flamegraph, Top, sandwich, diff) narrows the same way `go tool pprof` does:
//!
//! - `focus`: keep only stacks with a frame that matches;
//! - `ignore`: drop stacks with a frame that matches;
//! - `show_from`: drop the frames above (towards the root of) the outermost match, and stacks
//!   without a match;
//! - `hide`: remove the matching frames themselves, keeping the stack and its value.
//!
//! Beside them, `hide_runtime` removes the frames Go's own goroutine dumps leave out
//! (unexported `runtime.` functions: `gopark`, `chanrecv1`, `goexit`), so that a pprof goroutine
//! profile or an execution trace reads as the same program's dump.
//!
//! A regex matches anywhere in the function name (as pprof's, which are unanchored).

use regex::Regex;

use crate::model::funcname::hidden_by_go_traceback;

/// The one frame left of a stack that `hide_runtime` emptied: it ran only runtime code.
pub const RUNTIME_ONLY: &str = "(runtime only)";

/// Which of the four filters a pattern or an error belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FilterField {
    /// Keep stacks through a matching frame.
    Focus,
    /// Drop stacks through a matching frame.
    Ignore,
    /// Remove matching frames from stacks.
    Hide,
    /// Drop frames above the outermost match.
    ShowFrom,
}

impl FilterField {
    /// Every field, in the order a filter bar shows them.
    pub const ALL: [FilterField; 4] = [Self::Focus, Self::Ignore, Self::Hide, Self::ShowFrom];

    /// The name pprof gives the option (`focus`, `ignore`, `hide`, `show_from`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Focus => "focus",
            Self::Ignore => "ignore",
            Self::Hide => "hide",
            Self::ShowFrom => "show_from",
        }
    }
}

/// The filter patterns as the user typed them; an empty pattern is off.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct FilterSpec {
    /// Keep stacks through a matching frame.
    pub focus: String,
    /// Drop stacks through a matching frame.
    pub ignore: String,
    /// Remove matching frames.
    pub hide: String,
    /// Drop frames above the outermost match.
    pub show_from: String,
    /// Remove the frames a Go goroutine dump does not print
    /// ([`hidden_by_go_traceback`]).
    pub hide_runtime: bool,
}

impl FilterSpec {
    /// The pattern of one field.
    pub fn field(&self, field: FilterField) -> &str {
        match field {
            FilterField::Focus => &self.focus,
            FilterField::Ignore => &self.ignore,
            FilterField::Hide => &self.hide,
            FilterField::ShowFrom => &self.show_from,
        }
    }

    /// The pattern of one field, to edit.
    pub fn field_mut(&mut self, field: FilterField) -> &mut String {
        match field {
            FilterField::Focus => &mut self.focus,
            FilterField::Ignore => &mut self.ignore,
            FilterField::Hide => &mut self.hide,
            FilterField::ShowFrom => &mut self.show_from,
        }
    }

    /// Whether every pattern is empty (blank counts as empty) and no frame is hidden.
    pub fn is_empty(&self) -> bool {
        !self.hide_runtime && FilterField::ALL.iter().all(|&f| self.field(f).trim().is_empty())
    }
}

/// A pattern that is not a valid regex.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{} pattern {pattern:?}: {message}", field.name())]
pub struct FilterError {
    /// The field it was typed in.
    pub field: FilterField,
    /// The pattern.
    pub pattern: String,
    /// What the regex compiler said.
    pub message: String,
}

/// The compiled filters; the default filters nothing.
#[derive(Clone, Debug, Default)]
pub struct StackFilter {
    focus: Option<Regex>,
    ignore: Option<Regex>,
    hide: Option<Regex>,
    show_from: Option<Regex>,
    hide_runtime: bool,
}

impl StackFilter {
    /// Compiles the patterns. Every invalid pattern is reported, each with its field, so a
    /// filter bar can mark all of them at once.
    pub fn new(spec: &FilterSpec) -> Result<Self, Vec<FilterError>> {
        let mut errors = Vec::new();
        let mut compile = |field: FilterField| {
            let pattern = spec.field(field).trim();
            if pattern.is_empty() {
                return None;
            }
            match Regex::new(pattern) {
                Ok(re) => Some(re),
                Err(e) => {
                    errors.push(FilterError { field, pattern: pattern.to_owned(), message: e.to_string() });
                    None
                }
            }
        };
        let filter = Self {
            focus: compile(FilterField::Focus),
            ignore: compile(FilterField::Ignore),
            hide: compile(FilterField::Hide),
            show_from: compile(FilterField::ShowFrom),
            hide_runtime: spec.hide_runtime,
        };
        if errors.is_empty() { Ok(filter) } else { Err(errors) }
    }

    /// Whether it keeps every stack whole.
    pub fn is_empty(&self) -> bool {
        self.focus.is_none()
            && self.ignore.is_none()
            && self.hide.is_none()
            && self.show_from.is_none()
            && !self.hide_runtime
    }

    /// One stack, given root-first, through the filters: `None` when the stack is dropped,
    /// else its remaining frames, root-first. A stack whose frames are all hidden is kept
    /// empty, as pprof keeps its value in the total.
    pub fn apply<'a>(&self, root_first: &[&'a str]) -> Option<Vec<&'a str>> {
        let matches = |re: &Option<Regex>, f: &str| re.as_ref().is_some_and(|re| re.is_match(f));
        if self.focus.is_some() && !root_first.iter().any(|f| matches(&self.focus, f)) {
            return None;
        }
        if root_first.iter().any(|f| matches(&self.ignore, f)) {
            return None;
        }
        let from = match &self.show_from {
            Some(re) => root_first.iter().position(|f| re.is_match(f))?,
            None => 0,
        };
        let kept = root_first.get(from..).unwrap_or_default();
        let hidden = |f: &str| matches(&self.hide, f) || (self.hide_runtime && hidden_by_go_traceback(f));
        let left: Vec<&'a str> = kept.iter().copied().filter(|f| !hidden(f)).collect();
        // A stack made only of the runtime's own frames (a GC worker, the sweeper, the
        // scavenger: goroutines a dump does not print at all) would otherwise be a blank width
        // under the root that no frame explains; it is named for what it is.
        if left.is_empty() && self.hide_runtime && kept.iter().any(|f| !matches(&self.hide, f)) {
            return Some(vec![RUNTIME_ONLY]);
        }
        Some(left)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn filter(focus: &str, ignore: &str, hide: &str, show_from: &str) -> StackFilter {
        let spec = FilterSpec {
            focus: focus.into(),
            ignore: ignore.into(),
            hide: hide.into(),
            show_from: show_from.into(),
            hide_runtime: false,
        };
        StackFilter::new(&spec).unwrap()
    }

    const STACK: [&str; 4] = ["main.main", "main.serve", "net/http.(*conn).serve", "runtime.gopark"];

    #[test]
    fn empty_keeps_every_stack_whole() {
        let f = StackFilter::default();
        assert!(f.is_empty());
        assert_eq!(f.apply(&STACK).unwrap(), STACK);
        assert!(FilterSpec { focus: "  ".into(), ..FilterSpec::default() }.is_empty());
    }

    #[test]
    fn focus_keeps_stacks_through_a_match() {
        let f = filter("serve$", "", "", "");
        assert_eq!(f.apply(&STACK).unwrap(), STACK);
        assert_eq!(f.apply(&["main.main", "main.idle"]), None);
    }

    #[test]
    fn ignore_drops_stacks_through_a_match() {
        let f = filter("", "net/http", "", "");
        assert_eq!(f.apply(&STACK), None);
        assert_eq!(f.apply(&["main.main"]).unwrap(), ["main.main"]);
    }

    #[test]
    fn hide_removes_frames_and_keeps_the_stack() {
        let f = filter("", "", "^runtime\\.", "");
        assert_eq!(f.apply(&STACK).unwrap(), &STACK[..3]);
        assert_eq!(f.apply(&["runtime.goexit"]).unwrap(), Vec::<&str>::new());
    }

    #[test]
    fn hide_runtime_leaves_out_what_a_dump_does_not_print() {
        let spec = FilterSpec { hide_runtime: true, ..FilterSpec::default() };
        assert!(!spec.is_empty());
        let f = StackFilter::new(&spec).unwrap();
        assert!(!f.is_empty());
        let profile =
            ["runtime.goexit", "main.worker", "runtime.chanrecv1", "runtime.chanrecv", "runtime.gopark"];
        assert_eq!(f.apply(&profile).unwrap(), ["main.worker"]);
        // Exported runtime functions are printed by dumps, so they stay.
        assert_eq!(f.apply(&["main.main", "runtime.Gosched"]).unwrap(), ["main.main", "runtime.Gosched"]);
        // A goroutine of the runtime's own keeps its width under a name, not a blank.
        assert_eq!(
            f.apply(&["runtime.goexit", "runtime.bgsweep", "runtime.gopark"]).unwrap(),
            [RUNTIME_ONLY]
        );
        // What the user's own hide pattern empties stays empty, as in pprof.
        let spec = FilterSpec { hide_runtime: true, hide: "bgsweep".into(), ..FilterSpec::default() };
        let f = StackFilter::new(&spec).unwrap();
        assert_eq!(f.apply(&["runtime.bgsweep"]).unwrap(), Vec::<&str>::new());
        assert_eq!(f.apply(&[]).unwrap(), Vec::<&str>::new());
    }

    #[test]
    fn show_from_drops_frames_above_the_outermost_match() {
        let f = filter("", "", "", "serve");
        // main.serve is the outermost match: main.main above it goes, both serve frames stay.
        assert_eq!(f.apply(&STACK).unwrap(), &STACK[1..]);
        assert_eq!(f.apply(&["main.main", "main.idle"]), None);
    }

    #[test]
    fn filters_combine() {
        let f = filter("gopark", "", "^runtime", "conn");
        assert_eq!(f.apply(&STACK).unwrap(), ["net/http.(*conn).serve"]);
    }

    #[test]
    fn invalid_patterns_are_errors_with_their_field() {
        let spec = FilterSpec { focus: "(".into(), hide: "[".into(), ..FilterSpec::default() };
        let errors = StackFilter::new(&spec).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, [FilterField::Focus, FilterField::Hide]);
        assert!(errors[0].to_string().starts_with("focus pattern \"(\""), "{}", errors[0]);
    }
}
