//! Which paths under the watched folder are sluice's to ingest.
//!
//! Always skipped: hidden files and folders (any component starting with `.`), editor and download
//! temporaries, and sluice's own log and state files. On top of that, `watch.include` and
//! `watch.exclude` globs are matched against the path relative to the watched folder.

use std::path::Path;
use std::sync::Arc;

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::own::OwnFiles;

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
    own: Arc<OwnFiles>,
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
        own: Arc<OwnFiles>,
    ) -> Result<PathFilter, globset::Error> {
        Ok(PathFilter {
            include: build(include)?,
            exclude: build(exclude)?,
            temporary: build(TEMPORARY_NAMES)?,
            own,
        })
    }

    /// Whether a folder is walked into (`rel` relative to the watched folder).
    pub fn accepts_dir(&self, rel: &str) -> bool {
        !is_hidden(rel)
    }

    /// Whether a file is ingested (`rel` relative to the watched folder, `abs` absolute in the
    /// canonical watched folder). sluice's own files are skipped here by name when they sit in
    /// the folder themselves; a link to one is refused by the fence (`detect::fence`).
    pub fn accepts_file(&self, rel: &str, abs: &Path) -> bool {
        if rel.is_empty() || !self.accepts_dir(rel) {
            return false;
        }
        let name = rel.rsplit('/').next().unwrap_or(rel);
        if self.temporary.is_match(name) || self.own.is_own_path(abs) {
            return false;
        }
        self.include.is_match(rel) && !self.exclude.is_match(rel)
    }
}

/// Whether any component of a relative path is hidden (starts with `.`).
pub fn is_hidden(rel: &str) -> bool {
    rel.split('/').any(|c| c.starts_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter() -> PathFilter {
        PathFilter::new(
            &["**".into()],
            &["drafts/**".into()],
            OwnFiles::new(
                Path::new("/w/out/events.ndjson"),
                Path::new("/w/out/sluice.db"),
            ),
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
            "/w/out/events.ndjson.lock",
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
