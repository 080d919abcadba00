//! Which paths under the watched folder are sluice's to ingest.
//!
//! Always skipped: hidden files and folders (any component starting with `.`), editor and download
//! temporaries, and sluice's own log and state files. On top of that, `watch.include` and
//! `watch.exclude` globs are matched against the path relative to the watched folder.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};

/// File names that editors and downloaders write while a file is not finished.
const TEMPORARY_NAMES: &[&str] = &[
    "*.swp",
    "*.swx",
    "*.swo",
    "*~",
    "4913",
    ".#*",
    "*.tmp",
    "*.part",
    "*.crdownload",
    "#*#",
];

pub struct PathFilter {
    include: GlobSet,
    exclude: GlobSet,
    temporary: GlobSet,
    /// sluice's own files, absolute; with prefixes for the state's side files and rotated logs.
    own_exact: Vec<PathBuf>,
    own_log_dir: PathBuf,
    own_log_stem: String,
}

fn build(globs: &[impl AsRef<str>]) -> Result<GlobSet, globset::Error> {
    let mut b = GlobSetBuilder::new();
    for g in globs {
        b.add(Glob::new(g.as_ref())?);
    }
    b.build()
}

impl PathFilter {
    pub fn new(
        include: &[String],
        exclude: &[String],
        output_file: &Path,
        state_file: &Path,
    ) -> Result<PathFilter, globset::Error> {
        // Canonical forms: the watched folder is canonical too, so a link or `..` in either
        // spelling cannot make sluice ingest its own log.
        let state = canonical(state_file);
        let output = canonical(output_file);
        let mut own_exact = vec![output.clone(), state.clone()];
        for suffix in ["-wal", "-shm", "-journal", ".lock"] {
            let mut s = state.clone().into_os_string();
            s.push(suffix);
            own_exact.push(PathBuf::from(s));
        }
        Ok(PathFilter {
            include: build(include)?,
            exclude: build(exclude)?,
            temporary: build(TEMPORARY_NAMES)?,
            own_exact,
            own_log_dir: output.parent().map(Path::to_path_buf).unwrap_or_default(),
            own_log_stem: output
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
        })
    }

    /// Whether a folder is walked into (`rel` relative to the watched folder).
    pub fn accepts_dir(&self, rel: &str) -> bool {
        !is_hidden(rel)
    }

    /// Whether a file is ingested (`rel` relative to the watched folder, `abs` absolute).
    pub fn accepts_file(&self, rel: &str, abs: &Path) -> bool {
        if rel.is_empty() || !self.accepts_dir(rel) {
            return false;
        }
        let name = rel.rsplit('/').next().unwrap_or(rel);
        if self.temporary.is_match(name) || self.is_own(abs) {
            return false;
        }
        self.include.is_match(rel) && !self.exclude.is_match(rel)
    }

    fn is_own(&self, abs: &Path) -> bool {
        if self.own_exact.iter().any(|p| p == abs) {
            return true;
        }
        let name = abs
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default();
        // rotated logs: <stem>-<digits>.<ext> beside the log
        abs.parent() == Some(self.own_log_dir.as_path())
            && name
                .strip_prefix(&self.own_log_stem)
                .and_then(|rest| rest.strip_prefix('-'))
                .map(|rest| {
                    rest.split('.')
                        .next()
                        .unwrap_or("")
                        .bytes()
                        .all(|b| b.is_ascii_digit())
                })
                .unwrap_or(false)
    }
}

/// Whether any component of a relative path is hidden (starts with `.`).
pub fn is_hidden(rel: &str) -> bool {
    rel.split('/').any(|c| c.starts_with('.'))
}

/// The canonical form of `p` (links and `..` resolved) when it exists, else its absolute form.
pub fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| absolute(p))
}

/// An absolute form of `p` without touching the disk beyond the current directory.
pub fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter() -> PathFilter {
        PathFilter::new(
            &["**".into()],
            &["drafts/**".into()],
            Path::new("/w/out/events.ndjson"),
            Path::new("/w/out/sluice.db"),
        )
        .unwrap()
    }

    #[test]
    fn hidden_temporary_and_own_files_are_skipped() {
        let f = filter();
        for rel in [
            ".hidden.txt",
            "a/.git/config",
            "a/b.txt.swp",
            "b.txt~",
            "4913",
            "a/.#b.txt",
            "x.tmp",
            "movie.part",
            "dl.crdownload",
            "drafts/a.txt",
        ] {
            assert!(
                !f.accepts_file(rel, Path::new("/w/in").join(rel).as_path()),
                "{rel}"
            );
        }
        for abs in [
            "/w/out/events.ndjson",
            "/w/out/events-00000000000000000001.ndjson",
            "/w/out/sluice.db",
            "/w/out/sluice.db-wal",
        ] {
            assert!(!f.accepts_file("out/x", Path::new(abs)), "{abs}");
        }
    }

    #[test]
    fn ordinary_files_are_taken() {
        let f = filter();
        for rel in ["a.txt", "news/2023/page1.txt", "events.ndjson"] {
            assert!(
                f.accepts_file(rel, Path::new("/w/in").join(rel).as_path()),
                "{rel}"
            );
        }
    }
}
