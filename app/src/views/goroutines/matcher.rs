//! What the Goroutines view's filter box matches: a group's state, any frame of its stack or
//! its creator (function, or file:line), its pprof labels, or, typed as a number, a goroutine
//! id in it. Typed as `key=value` terms (`route=/export tenant=acme`), it keeps the groups
//! whose label set has every one of them, the value matched exactly. Plain
//! text is case-insensitive; a regex is compiled once per change of the filter, with a size
//! limit so that a pasted pattern cannot stall a frame.

use leakscope_core::model::Group;

use super::state_text;
use crate::workspace::LoadedCapture;

/// A compiled filter: plain text (case-insensitive) or a regex.
pub(super) enum Matcher {
    All,
    Text(String),
    Regex(regex::Regex),
    /// `key=value` terms, all of which a group's labels must have.
    Labels(Vec<(String, String)>),
}

impl Matcher {
    pub(super) fn new(filter: &str, regex: bool) -> Result<Self, String> {
        let filter = filter.trim();
        if filter.is_empty() {
            Ok(Matcher::All)
        } else if regex {
            regex::RegexBuilder::new(filter)
                .case_insensitive(true)
                .size_limit(1 << 20)
                .build()
                .map(Matcher::Regex)
                .map_err(|e| e.to_string())
        } else if let Some(terms) = label_terms(filter) {
            Ok(Matcher::Labels(terms))
        } else {
            Ok(Matcher::Text(filter.to_lowercase()))
        }
    }

    pub(super) fn is_match(&self, text: &str) -> bool {
        match self {
            Matcher::All => true,
            Matcher::Text(t) => text.to_lowercase().contains(t.as_str()),
            Matcher::Regex(r) => r.is_match(text),
            Matcher::Labels(_) => false,
        }
    }
}

pub(super) fn group_matches(loaded: &LoadedCapture, g: &Group, matcher: &Matcher) -> bool {
    if matches!(matcher, Matcher::All) {
        return true;
    }
    let capture = &loaded.capture;
    if let Matcher::Labels(terms) = matcher {
        let labels = capture.tables.labels(g.labels);
        return terms.iter().all(|(k, v)| {
            labels.iter().any(|l| capture.str(l.key) == k.as_str() && capture.str(l.value) == v.as_str())
        });
    }
    if matcher.is_match(state_text(loaded, g)) || matcher.is_match(&capture.label_text(g.labels)) {
        return true;
    }
    let frame_matches = |f| {
        let frame = capture.tables.frame(f);
        matcher.is_match(capture.str(frame.func))
            || (!frame.file.is_empty()
                && matcher.is_match(&format!("{}:{}", capture.str(frame.file), frame.line)))
    };
    if capture.tables.stack(g.stack).iter().any(|&f| frame_matches(f))
        || g.created_by.is_some_and(frame_matches)
    {
        return true;
    }
    // A goroutine id finds its group.
    if let Matcher::Text(t) = matcher
        && let Ok(id) = t.trim_start_matches("goroutine ").parse::<u64>()
    {
        return loaded
            .task_by_id
            .get(&id)
            .and_then(|&task| loaded.group_of(task))
            .is_some_and(|gi| loaded.groups.get(gi).is_some_and(|other| std::ptr::eq(other, g)));
    }
    false
}

/// `key=value` terms separated by spaces, when every term is one (a key before `=`, a value
/// after it, possibly empty); else `None`, and the filter is plain text.
fn label_terms(filter: &str) -> Option<Vec<(String, String)>> {
    filter
        .split_whitespace()
        .map(|term| {
            let (k, v) = term.split_once('=')?;
            (!k.is_empty()).then(|| (k.to_owned(), v.to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_regex_ignore_case_and_a_bad_regex_says_why() {
        assert!(Matcher::new("  ", false).is_ok_and(|m| matches!(m, Matcher::All)));
        let text = Matcher::new("ChanRecv", false).unwrap();
        assert!(text.is_match("runtime.chanrecv1") && !text.is_match("runtime.selectgo"));
        let regex = Matcher::new(r"^main\.(worker|pump)$", true).unwrap();
        assert!(regex.is_match("MAIN.Worker") && !regex.is_match("main.workers"));
        assert!(Matcher::new("(unclosed", true).is_err_and(|e| !e.is_empty()));
    }

    #[test]
    fn key_value_terms_filter_by_labels() {
        let m = Matcher::new("route=/export  tenant=acme", false).unwrap();
        assert!(
            matches!(&m, Matcher::Labels(t) if t == &[("route".to_owned(), "/export".to_owned()), ("tenant".to_owned(), "acme".to_owned())])
        );
        assert!(matches!(Matcher::new("route=/export main.f", false).unwrap(), Matcher::Text(_)));
        assert!(matches!(Matcher::new("=x", false).unwrap(), Matcher::Text(_)));
        assert!(matches!(Matcher::new("route=/export", true).unwrap(), Matcher::Regex(_)));
    }
}
