//! Listing a folder tree: every file the filter accepts, and every folder that could not be read.
//!
//! A folder that cannot be listed (EACCES, EMFILE…) is reported, never taken as empty: the
//! detector keeps what it tracks below it instead of calling those files removed.

use std::path::{Path, PathBuf};

use super::filter::PathFilter;

#[derive(Debug, Default)]
pub struct Listing {
    /// (path relative to the root, `/`-separated; absolute path)
    pub files: Vec<(String, PathBuf)>,
    /// Folders (relative) whose content is unknown because listing them failed.
    pub unlisted: Vec<String>,
}

/// The relative, `/`-separated form of `abs` under `root`, or None outside it.
/// None also for a name that is not valid UTF-8: a subject must be text, and a lossy spelling
/// would name another file (such names are reported by [`list`]).
pub fn relative(root: &Path, abs: &Path) -> Option<String> {
    let rel = abs.strip_prefix(root).ok()?;
    let mut out = String::new();
    for c in rel.components() {
        if !out.is_empty() {
            out.push('/');
        }
        out.push_str(c.as_os_str().to_str()?);
    }
    Some(out)
}

/// Lists `dir` (absolute, inside `root`) recursively. Symlinks are listed as files and never
/// followed into folders, so a link cycle cannot make the walk loop.
pub fn list(root: &Path, dir: &Path, filter: &PathFilter) -> Listing {
    let mut listing = Listing::default();
    let walker = ignore::WalkBuilder::new(dir)
        .standard_filters(false)
        .follow_links(false)
        .filter_entry({
            let root = root.to_path_buf();
            move |entry| {
                if entry.file_type().is_some_and(|t| t.is_dir()) {
                    relative(&root, entry.path()).is_none_or(|rel| !super::filter::is_hidden(&rel))
                } else {
                    true
                }
            }
        })
        .build();
    for entry in walker {
        match entry {
            Ok(entry) => {
                let Some(kind) = entry.file_type() else {
                    continue;
                };
                if kind.is_dir() {
                    continue;
                }
                let Some(rel) = relative(root, entry.path()) else {
                    tracing::warn!(
                        path = %entry.path().display(),
                        "file name is not valid UTF-8: skipped (rename it to ingest it)"
                    );
                    continue;
                };
                if filter.accepts_file(&rel, entry.path()) {
                    listing.files.push((rel, entry.path().to_path_buf()));
                }
            }
            Err(err) => {
                let path = error_path(&err).unwrap_or_else(|| dir.to_path_buf());
                tracing::warn!(
                    path = %path.display(),
                    "cannot list folder ({err}); files tracked below it are kept as they were"
                );
                if let Some(rel) = relative(root, &path) {
                    listing.unlisted.push(rel);
                }
            }
        }
    }
    listing
}

fn error_path(err: &ignore::Error) -> Option<PathBuf> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } => error_path(err),
        ignore::Error::WithLineNumber { err, .. } => error_path(err),
        ignore::Error::Partial(errs) => errs.iter().find_map(error_path),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_nested_files_and_skips_hidden_folders() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("a/b/c")).unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::write(root.join("a/b/c/f.txt"), "x").unwrap();
        std::fs::write(root.join("top.txt"), "x").unwrap();
        std::fs::write(root.join(".git/config"), "x").unwrap();
        let filter = PathFilter::new(
            &["**".into()],
            &[],
            &root.join("out.ndjson"),
            &root.join("s.db"),
        )
        .unwrap();
        let mut files: Vec<String> = list(root, root, &filter)
            .files
            .into_iter()
            .map(|(rel, _)| rel)
            .collect();
        files.sort();
        assert_eq!(files, vec!["a/b/c/f.txt", "top.txt"]);
    }
}
