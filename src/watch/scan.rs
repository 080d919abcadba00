//! Listing a folder tree: every file the filter accepts, and every folder that could not be read.
//!
//! A folder that cannot be listed (EACCES, EMFILE…) is reported, never taken as empty: the
//! detector keeps what it tracks below it instead of calling those files removed.

use std::path::{Path, PathBuf};

use super::filter::PathFilter;

#[derive(Debug, Default)]
pub struct Listing {
    pub files: Vec<Listed>,
    /// Folders (relative) whose content is unknown because listing them failed.
    pub unlisted: Vec<String>,
}

/// One file found by a walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// Relative to the root, `/`-separated (see [`relative_escaped`] for names not in UTF-8).
    pub rel: String,
    pub abs: PathBuf,
    /// The name is not UTF-8: `rel` writes its undecodable bytes as `\xNN`.
    pub bad_name: bool,
}

/// The relative, `/`-separated form of `abs` under `root`, or None outside it.
/// None also for a name that is not valid UTF-8 (see [`relative_escaped`]).
pub fn relative(root: &Path, abs: &Path) -> Option<String> {
    match relative_escaped(root, abs)? {
        (rel, false) => Some(rel),
        (_, true) => None,
    }
}

/// The relative form of `abs` under `root`, and whether it is not valid UTF-8: then each byte
/// that does not decode is written `\xNN` (two upper-case hex digits), so the name can be
/// reported, though it cannot be ingested (a lossy spelling would name another file).
pub fn relative_escaped(root: &Path, abs: &Path) -> Option<(String, bool)> {
    use std::os::unix::ffi::OsStrExt;
    let rel = abs.strip_prefix(root).ok()?;
    let mut out = String::new();
    let mut bad = false;
    for c in rel.components() {
        if !out.is_empty() {
            out.push('/');
        }
        for chunk in c.as_os_str().as_bytes().utf8_chunks() {
            out.push_str(chunk.valid());
            for b in chunk.invalid() {
                bad = true;
                out.push_str(&format!("\\x{b:02X}"));
            }
        }
    }
    Some((out, bad))
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
                let Some((rel, bad_name)) = relative_escaped(root, entry.path()) else {
                    continue;
                };
                if filter.accepts_file(&rel, entry.path()) {
                    listing.files.push(Listed {
                        rel,
                        abs: entry.path().to_path_buf(),
                        bad_name,
                    });
                }
            }
            Err(err) => {
                let path = error_path(&err).unwrap_or_else(|| dir.to_path_buf());
                tracing::warn!(
                    path = %path.display(),
                    "cannot list folder ({err}); files tracked below it are kept as they were"
                );
                if let Some((rel, bad_name)) = relative_escaped(root, &path) {
                    // A folder the kernel cannot open by its full path is reported like a file
                    // that cannot be read (once, as `path_too_long`).
                    if is_too_long(&err) {
                        listing.files.push(Listed {
                            rel: rel.clone(),
                            abs: path.clone(),
                            bad_name,
                        });
                    }
                    listing.unlisted.push(rel);
                }
            }
        }
    }
    listing
}

const ENAMETOOLONG: i32 = 36;

/// Whether a walk error is the kernel refusing a path as too long (ENAMETOOLONG; the walker
/// wraps the OS error, keeping its kind).
fn is_too_long(err: &ignore::Error) -> bool {
    match err {
        ignore::Error::Io(e) => {
            e.raw_os_error() == Some(ENAMETOOLONG)
                || e.kind() == std::io::ErrorKind::InvalidFilename
        }
        ignore::Error::WithPath { err, .. }
        | ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. } => is_too_long(err),
        ignore::Error::Partial(errs) => errs.iter().any(is_too_long),
        _ => false,
    }
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
        let own = crate::own::OwnFiles::new(&root.join("out.ndjson"), &root.join("s.db"));
        let filter = PathFilter::new(&["**".into()], &[], own).unwrap();
        let mut files: Vec<String> = list(root, root, &filter)
            .files
            .into_iter()
            .map(|l| l.rel)
            .collect();
        files.sort();
        assert_eq!(files, vec!["a/b/c/f.txt", "top.txt"]);
    }
}
