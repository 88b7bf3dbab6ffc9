//! What users tune: thresholds and their own ignore rules, from the command line and from a
//! `leakscope.toml` in the project (found in the working directory or any parent, as tools like
//! rustfmt and golangci-lint find theirs).
//!
//! ```toml
//! [thresholds]
//! crowd = 100              # goroutines from one creation site, parked, before it is suspicious
//! long_wait_minutes = 10   # dump minutes before a wait counts as long
//! pile_up = 10             # goroutines on one lock or WaitGroup before it is a pile-up
//! growth_min = 5           # least growth (goroutines) between captures that counts
//! growth_ratio = 1.5       # and the least after/before ratio
//! conn_loops = 100         # per-connection loops before the pool counts as far too large
//! async_origins = 2        # origins (requests) leaving one unfinished shape before it leaks
//! idle_lane_share = 0.9    # share of a thread's life blocked in one call before it is idle
//! profile_family = 10      # goroutines at one stack of a count-only profile before it is listed
//! id_spread_share = 0.25   # share of the goroutine-id range a family spans to be "throughout"
//!
//! [[ignore]]
//! top_function = "^github.com/acme/pool\\.\\(\\*Pool\\)\\.worker$"   # like goleak.IgnoreTopFunction
//! reason = "bounded pool, sized by config"
//!
//! [[ignore]]
//! created_by = "^github.com/acme/metrics\\."                         # like goleak.IgnoreCreatedBy
//!
//! [[ignore]]
//! function = "opencensus"                                            # any frame of the stack
//! ```

use std::path::{Path, PathBuf};

use regex::Regex;
use serde::Deserialize;

/// The config file's name.
pub const CONFIG_FILE: &str = "leakscope.toml";

/// Numbers the rules compare against.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// Parked goroutines from one creation site before a crowd is suspicious.
    pub crowd: u64,
    /// Dump minutes before a wait counts as long.
    pub long_wait_minutes: u64,
    /// Goroutines on one lock or WaitGroup site before it is a pile-up.
    pub pile_up: u64,
    /// Least growth in goroutines between captures.
    pub growth_min: u64,
    /// Least after/before ratio between captures.
    pub growth_ratio: f64,
    /// Per-connection loops before a pool counts as far too large.
    pub conn_loops: u64,
    /// Context propagation goroutines before they count as piling up.
    pub context_propagation: u64,
    /// Goroutines stuck in one client call before it counts as more than in-flight traffic.
    pub client_calls: u64,
    /// Fraction of a trace a goroutine must have been blocked until the end for a long wait
    /// (also how long a span or async operation with nothing to compare with must be open).
    pub trace_blocked_fraction: f64,
    /// Origins (requests, timer runs) that must leave the same unfinished async work behind
    /// before it counts as a leaking code path: one could be work in flight.
    pub async_origins: u64,
    /// Least share of its life a thread alive at the end must have spent blocked to be idle.
    pub idle_lane_share: f64,
    /// Least goroutines at one stack of a count-only profile (no states, creators or ids)
    /// before a parked family nothing explains is listed as possible.
    pub profile_family: u64,
    /// Least share of the capture's goroutine-id range a family must span to count as created
    /// throughout the process's life.
    pub id_spread_share: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            crowd: 100,
            long_wait_minutes: 10,
            pile_up: 10,
            growth_min: 5,
            growth_ratio: 1.5,
            conn_loops: 100,
            context_propagation: 10,
            client_calls: 10,
            trace_blocked_fraction: 0.5,
            async_origins: 2,
            idle_lane_share: 0.9,
            profile_family: 10,
            id_spread_share: 0.25,
        }
    }
}

/// One user exception.
#[derive(Clone, Debug)]
pub struct IgnoreRule {
    /// What it matches.
    pub pattern: Regex,
    /// Where it looks.
    pub scope: IgnoreScope,
    /// Why, shown when listing ignored groups.
    pub reason: Option<String>,
}

/// Where an ignore rule looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IgnoreScope {
    /// Any frame of the stack (goleak.IgnoreAnyFunction).
    AnyFunction,
    /// The innermost frame outside the runtime and standard library (goleak.IgnoreTopFunction).
    TopFunction,
    /// The creating function (goleak.IgnoreCreatedBy).
    CreatedBy,
    /// Any frame or the creator: what `--ignore REGEX` means on the command line.
    Anywhere,
}

/// Rules' configuration.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// Thresholds.
    pub thresholds: Thresholds,
    /// User exceptions.
    pub ignore: Vec<IgnoreRule>,
    /// The file the config came from, if any.
    pub source: Option<PathBuf>,
}

/// Why a config could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the config: {source}: {path}")]
    Io {
        /// The OS error.
        source: std::io::Error,
        /// The file.
        path: PathBuf,
    },
    /// The file is not valid TOML for this schema.
    #[error("invalid config: {message}: {path}")]
    Toml {
        /// What is wrong, with line and column.
        message: String,
        /// The file.
        path: PathBuf,
    },
    /// An ignore pattern is not a valid regex.
    #[error("invalid ignore pattern {pattern:?}: {message}{}", path.as_ref().map(|p| format!(": {}", p.display())).unwrap_or_default())]
    Regex {
        /// The pattern.
        pattern: String,
        /// What is wrong.
        message: String,
        /// The file, if the pattern came from one.
        path: Option<PathBuf>,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileIgnore {
    function: Option<String>,
    top_function: Option<String>,
    created_by: Option<String>,
    reason: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct File {
    thresholds: Thresholds,
    ignore: Vec<FileIgnore>,
}

impl Config {
    /// Parses a config file's text.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let file: File = toml::from_str(text)
            .map_err(|e| ConfigError::Toml { message: e.to_string(), path: path.to_owned() })?;
        let mut config =
            Config { thresholds: file.thresholds, ignore: Vec::new(), source: Some(path.to_owned()) };
        for rule in file.ignore {
            let scopes = [
                (rule.function, IgnoreScope::AnyFunction),
                (rule.top_function, IgnoreScope::TopFunction),
                (rule.created_by, IgnoreScope::CreatedBy),
            ];
            for (pattern, scope) in scopes {
                if let Some(pattern) = pattern {
                    config.add_ignore(&pattern, scope, rule.reason.clone(), Some(path))?;
                }
            }
        }
        Ok(config)
    }

    /// Reads `leakscope.toml` from `dir` or its nearest ancestor that has one; the default
    /// config when there is none.
    pub fn discover(dir: &Path) -> Result<Self, ConfigError> {
        for d in dir.ancestors() {
            let path = d.join(CONFIG_FILE);
            if path.is_file() {
                return Self::load(&path);
            }
        }
        Ok(Self::default())
    }

    /// Reads a config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Io { source, path: path.to_owned() })?;
        Self::from_toml(&text, path)
    }

    /// Adds an exception.
    pub fn add_ignore(
        &mut self,
        pattern: &str,
        scope: IgnoreScope,
        reason: Option<String>,
        path: Option<&Path>,
    ) -> Result<(), ConfigError> {
        let regex = Regex::new(pattern).map_err(|e| ConfigError::Regex {
            pattern: pattern.to_owned(),
            message: e.to_string(),
            path: path.map(Path::to_owned),
        })?;
        self.ignore.push(IgnoreRule { pattern: regex, scope, reason });
        Ok(())
    }

    /// The first rule that ignores a goroutine family with these frames (innermost first),
    /// top user function and creator.
    pub fn ignored_by(&self, funcs: &[&str], top: &str, creator: Option<&str>) -> Option<&IgnoreRule> {
        self.ignore.iter().find(|r| match r.scope {
            IgnoreScope::AnyFunction => funcs.iter().any(|f| r.pattern.is_match(f)),
            IgnoreScope::TopFunction => r.pattern.is_match(top),
            IgnoreScope::CreatedBy => creator.is_some_and(|c| r.pattern.is_match(c)),
            IgnoreScope::Anywhere => {
                funcs.iter().any(|f| r.pattern.is_match(f)) || creator.is_some_and(|c| r.pattern.is_match(c))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_thresholds_and_ignores() {
        let c = Config::from_toml(
            "[thresholds]\ncrowd = 7\n[[ignore]]\ntop_function = '^main\\.worker$'\nreason = 'pool'\n[[ignore]]\ncreated_by = 'metrics'\n",
            Path::new("leakscope.toml"),
        )
        .unwrap();
        assert_eq!(c.thresholds.crowd, 7);
        assert_eq!(c.thresholds.pile_up, Thresholds::default().pile_up);
        assert_eq!(c.ignore.len(), 2);
        assert!(c.ignored_by(&["runtime.gopark", "main.worker"], "main.worker", None).is_some());
        assert!(c.ignored_by(&["main.other"], "main.other", Some("github.com/x/metrics.Start")).is_some());
        assert!(c.ignored_by(&["main.other"], "main.other", Some("main.main")).is_none());
    }

    #[test]
    fn bad_input_names_the_place() {
        let e = Config::from_toml("[thresholds]\ncrowd = 'x'\n", Path::new("p/leakscope.toml")).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("p/leakscope.toml") && text.contains("line 2"), "{text}");
        let e = Config::from_toml("[[ignore]]\nfunction = '('\n", Path::new("leakscope.toml")).unwrap_err();
        assert!(e.to_string().contains("invalid ignore pattern"));
        assert!(Config::from_toml("[nope]\n", Path::new("leakscope.toml")).is_err());
    }
}
