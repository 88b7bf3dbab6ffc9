//! `drop_frames` / `keep_frames`: a profile may name frames that readers drop together with
//! everything they call (allocator internals, signal handlers). pprof applies this when it loads
//! a profile, so we do too, with the same rules: a location is cut at its outermost matching
//! line, and a sample loses the cut location's callees, but never before its first frame that
//! doesn't match (so a stack is never emptied by a match at its root).

use regex::Regex;

/// How a location is affected by `drop_frames`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum Prune {
    /// No line matches.
    #[default]
    Keep,
    /// Its outermost line matches: a sample that reaches it loses it and its callees.
    Whole,
    /// An inner line matches: the location keeps only the lines outside the match, and a
    /// sample that reaches it loses its callees.
    Beneath,
}

/// The compiled `drop_frames` and `keep_frames` expressions.
pub(super) struct Rules {
    drop: Regex,
    keep: Option<Regex>,
}

impl Rules {
    /// Compiles the expressions, anchored as pprof anchors them. `Ok(None)` when nothing is
    /// dropped; `Err` names the expression that doesn't compile.
    pub(super) fn new(drop: &str, keep: &str) -> Result<Option<Self>, String> {
        if drop.is_empty() {
            return Ok(None);
        }
        let compile = |re: &str| {
            regex::RegexBuilder::new(&format!("^(?:{re})$"))
                .size_limit(1 << 20)
                .build()
                .map_err(|e| format!("{re:?}: {e}"))
        };
        let drop = compile(drop)?;
        let keep = if keep.is_empty() { None } else { Some(compile(keep)?) };
        Ok(Some(Self { drop, keep }))
    }

    /// Whether frames of function `name` are dropped.
    pub(super) fn drops(&self, name: &str) -> bool {
        let name = simplify(name);
        self.drop.is_match(name) && !self.keep.as_ref().is_some_and(|k| k.is_match(name))
    }
}

/// A function name without its argument list (`foo(int)` → `foo`), as the expressions are
/// written against. A leading `.` (PPC64 ELFv1 descriptors) goes too. `(anonymous namespace)`
/// and `operator()` are part of C++ names, not argument lists.
fn simplify(name: &str) -> &str {
    let name = name.strip_prefix('.').unwrap_or(name);
    let mut i = 0;
    while let Some(rest) = name.get(i..) {
        if let Some(skip) = ["(anonymous namespace)", "operator()"].iter().find(|r| rest.starts_with(**r)) {
            i += skip.len();
        } else if rest.starts_with('(') {
            return name.get(..i).unwrap_or(name);
        } else if let Some(c) = rest.chars().next() {
            i += c.len_utf8();
        } else {
            break;
        }
    }
    name
}

/// A location's prune kind and how many of its inner lines go, given which of its lines
/// (innermost first) are dropped.
pub(super) fn location(drops: &[bool]) -> (Prune, usize) {
    // The outermost matching line decides.
    match drops.iter().rposition(|&d| d) {
        None => (Prune::Keep, 0),
        Some(i) if i + 1 == drops.len() => (Prune::Whole, 0),
        Some(i) => (Prune::Beneath, i + 1),
    }
}

/// Index of the first location (leaf first) a sample keeps, given each location's prune kind
/// leaf first.
pub(super) fn sample_start(prunes: &[Prune]) -> usize {
    let mut found_user = false;
    for (i, p) in prunes.iter().enumerate().rev() {
        match p {
            Prune::Keep => found_user = true,
            _ if !found_user => {}
            Prune::Whole => return i + 1,
            Prune::Beneath => return i,
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_simplified() {
        assert_eq!(simplify("malloc(unsigned long)"), "malloc");
        assert_eq!(simplify(".foo"), "foo");
        assert_eq!(simplify("(anonymous namespace)::f(int)"), "(anonymous namespace)::f");
        assert_eq!(simplify("Foo::operator()(int)"), "Foo::operator()");
        assert_eq!(simplify("plain"), "plain");
    }

    #[test]
    fn rules_anchor_and_keep() {
        let r = Rules::new("malloc|free", "").unwrap().unwrap();
        assert!(r.drops("malloc"));
        assert!(r.drops("malloc(int)"));
        assert!(!r.drops("xmalloc"));
        let r = Rules::new("mem.*", "memcpy").unwrap().unwrap();
        assert!(r.drops("memset"));
        assert!(!r.drops("memcpy"));
        assert!(Rules::new("", "x").unwrap().is_none());
        assert!(Rules::new("(", "").is_err());
    }

    #[test]
    fn locations_cut_at_the_outermost_match() {
        assert_eq!(location(&[false, false]), (Prune::Keep, 0));
        assert_eq!(location(&[false, true]), (Prune::Whole, 0));
        assert_eq!(location(&[true, false]), (Prune::Beneath, 1));
        assert_eq!(location(&[true, true, false]), (Prune::Beneath, 2));
        assert_eq!(location(&[]), (Prune::Keep, 0));
    }

    #[test]
    fn samples_lose_callees_of_the_first_match_from_the_root() {
        use Prune::{Beneath, Keep, Whole};
        // leaf .. root
        assert_eq!(sample_start(&[Keep, Whole, Keep, Keep]), 2);
        assert_eq!(sample_start(&[Keep, Beneath, Keep]), 1);
        // A match at the root itself is kept: nothing user-side came before it.
        assert_eq!(sample_start(&[Keep, Keep, Whole]), 0);
        assert_eq!(sample_start(&[Whole, Keep, Whole]), 1);
        assert_eq!(sample_start(&[Keep, Keep]), 0);
        assert_eq!(sample_start(&[]), 0);
    }
}
