//! What the Goroutines view's filter box matches: a group's state, any frame of its stack or
//! its creator (function, or file:line), or, typed as a number, a goroutine id in it. Plain
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
        } else {
            Ok(Matcher::Text(filter.to_lowercase()))
        }
    }

    pub(super) fn is_match(&self, text: &str) -> bool {
        match self {
            Matcher::All => true,
            Matcher::Text(t) => text.to_lowercase().contains(t.as_str()),
            Matcher::Regex(r) => r.is_match(text),
        }
    }
}

pub(super) fn group_matches(loaded: &LoadedCapture, g: &Group, matcher: &Matcher) -> bool {
    if matches!(matcher, Matcher::All) {
        return true;
    }
    let capture = &loaded.capture;
    if matcher.is_match(state_text(loaded, g)) {
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
}
