//! The fence around the watched folder: what a path may lead to before sluice reads it.
//!
//! Anyone who can drop a file can drop a symbolic link, so a path is never read on the strength
//! of its name. [`Fence::open`] pins the file the path leads to with an `O_PATH` descriptor (which
//! opens nothing: no FIFO blocks, no device wakes up), asks the kernel where that descriptor
//! really is (`/proc/self/fd`), checks it against `watch.symlinks` and against sluice's own files,
//! and only then opens that same inode for reading through the pinned descriptor. What was checked
//! is what is read: there is no window between the check and the open.
//!
//! sluice's own files are recognized by what they are, not by their names: the log, its lock,
//! the state database and its side files by their canonical paths, and every file the log has
//! been (the live file and its rotated parts) by device and inode. A link to any of them is
//! refused; a producer file that merely looks like a rotated log (`events-2024.csv`) is not.
//!
//! Hard links cannot be told from ordinary files (a hard link *is* the file, under a second
//! name): a hard link inside the folder to a file outside it is read. The kernel's
//! `fs.protected_hardlinks` (on by default) stops users from making hard links to files they do
//! not own.

use std::fs::{File, Metadata};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::SymlinkPolicy;
use crate::detect::FailKind;
pub use crate::own::OwnFiles;

/// Linux open(2) flags that std does not name.
const O_PATH: i32 = 0o10000000;
const O_NONBLOCK: i32 = 0o4000;
const O_NOCTTY: i32 = 0o400;

/// Why a path is not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// It leads outside the watched folder (`watch.symlinks = inside`).
    OutsideWatch,
    /// It goes through a symbolic link (`watch.symlinks = never`).
    Symlink,
    /// It leads to sluice's own log or state.
    OwnFile,
    /// A FIFO, socket or device: reading it could block or have effects.
    Special(&'static str),
}

impl Refusal {
    pub fn kind(&self) -> FailKind {
        match self {
            Refusal::OutsideWatch => FailKind::OutsideWatch,
            Refusal::Symlink => FailKind::SymlinkRefused,
            Refusal::OwnFile => FailKind::OwnFile,
            Refusal::Special(_) => FailKind::SpecialFile,
        }
    }

    pub fn message(&self) -> String {
        match self {
            Refusal::OutsideWatch => {
                "the path is a symbolic link (or goes through one) that leads \
                outside the watched folder; its target is not read (watch.symlinks = inside; set \
                it to follow to read links anywhere)"
                    .into()
            }
            Refusal::Symlink => "the path is a symbolic link (or goes through one) and \
                watch.symlinks = never; its target is not read (set inside or follow to read \
                links)"
                .into(),
            Refusal::OwnFile => "the path leads to sluice's own event log or state; it is never \
                read (that would feed the log back into itself)"
                .into(),
            Refusal::Special(what) => format!(
                "the path is a {what}, not a regular file: reading it could block or have \
                 effects, so it is not read"
            ),
        }
    }
}

/// What keeps a path from being read.
#[derive(Debug)]
pub enum Denied {
    Io(std::io::Error),
    Refused(Refusal),
}

impl From<std::io::Error> for Denied {
    fn from(e: std::io::Error) -> Denied {
        Denied::Io(e)
    }
}

/// A file opened for reading, with its metadata taken from the open descriptor.
pub struct Opened {
    pub file: File,
    pub meta: Metadata,
}

/// The rules for reading under one watched folder.
#[derive(Debug, Clone)]
pub struct Fence {
    /// The watched folder, canonical.
    root: PathBuf,
    policy: SymlinkPolicy,
    own: Arc<OwnFiles>,
}

impl Fence {
    /// `root` must be canonical (links and `..` resolved), as the detector's is.
    pub fn new(root: PathBuf, policy: SymlinkPolicy, own: Arc<OwnFiles>) -> Fence {
        Fence { root, policy, own }
    }

    pub fn own(&self) -> &Arc<OwnFiles> {
        &self.own
    }

    /// Opens `abs` (the path `rel` under the root) for reading, when what it leads to may be read.
    pub fn open(&self, abs: &Path, rel: &str) -> Result<Opened, Denied> {
        let pinned = File::options()
            .read(true)
            .custom_flags(O_PATH | O_NOCTTY)
            .open(abs)?;
        let meta = pinned.metadata()?;
        if meta.nlink() == 0 {
            return Err(Denied::Io(std::io::Error::from(
                std::io::ErrorKind::NotFound,
            )));
        }
        let proc_path = PathBuf::from(format!("/proc/self/fd/{}", pinned.as_raw_fd()));
        let via_proc = std::fs::read_link(&proc_path).ok();
        let real = match &via_proc {
            Some(real) => real.clone(),
            // No /proc (an unusual container): resolve the name, and check below that the file
            // opened is the one resolved.
            None => std::fs::canonicalize(abs)?,
        };
        self.check(&real, rel, &meta)?;
        let file = File::options()
            .read(true)
            .custom_flags(O_NONBLOCK | O_NOCTTY)
            .open(if via_proc.is_some() { &proc_path } else { abs })?;
        let opened = file.metadata()?;
        if (opened.dev(), opened.ino()) != (meta.dev(), meta.ino()) {
            return Err(Denied::Io(std::io::Error::other(
                "the file was replaced while it was opened",
            )));
        }
        Ok(Opened { file, meta: opened })
    }

    /// The policy applied to a file whose real path is `real`.
    fn check(&self, real: &Path, rel: &str, meta: &Metadata) -> Result<(), Denied> {
        let refuse = |r| Err(Denied::Refused(r));
        let literal = rel.is_empty() || *real == self.root.join(rel);
        match self.policy {
            SymlinkPolicy::Never if !literal => return refuse(Refusal::Symlink),
            SymlinkPolicy::Inside if !real.starts_with(&self.root) => {
                return refuse(Refusal::OutsideWatch)
            }
            _ => {}
        }
        if self.own.is_own(real, meta) {
            return refuse(Refusal::OwnFile);
        }
        let t = meta.file_type();
        let special = if t.is_fifo() {
            Some("FIFO (named pipe)")
        } else if t.is_socket() {
            Some("socket")
        } else if t.is_char_device() {
            Some("character device")
        } else if t.is_block_device() {
            Some("block device")
        } else if t.is_dir() {
            Some("folder")
        } else {
            None
        };
        match special {
            Some(what) => refuse(Refusal::Special(what)),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn fence(root: &Path, policy: SymlinkPolicy, out: &Path) -> Fence {
        let root = std::fs::canonicalize(root).unwrap();
        let own = OwnFiles::new(&out.join("events.ndjson"), &out.join("sluice.db"));
        Fence::new(root, policy, own)
    }

    fn refusal(r: Result<Opened, Denied>) -> Option<Refusal> {
        match r {
            Err(Denied::Refused(r)) => Some(r),
            Err(Denied::Io(e)) => panic!("io error: {e}"),
            Ok(_) => None,
        }
    }

    #[test]
    fn links_are_judged_by_where_they_lead() {
        let dir = tempfile::tempdir().unwrap();
        let (w, outside, out) = (
            dir.path().join("w"),
            dir.path().join("outside"),
            dir.path().join("out"),
        );
        for d in [&w, &outside, &out] {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(outside.join("secret"), "secret").unwrap();
        std::fs::write(w.join("a.txt"), "a").unwrap();
        symlink(outside.join("secret"), w.join("out.txt")).unwrap();
        symlink(w.join("a.txt"), w.join("in.txt")).unwrap();
        symlink(&outside, w.join("dir")).unwrap();
        let inside = fence(&w, SymlinkPolicy::Inside, &out);
        assert_eq!(refusal(inside.open(&w.join("a.txt"), "a.txt")), None);
        assert_eq!(refusal(inside.open(&w.join("in.txt"), "in.txt")), None);
        assert_eq!(
            refusal(inside.open(&w.join("out.txt"), "out.txt")),
            Some(Refusal::OutsideWatch)
        );
        assert_eq!(
            refusal(inside.open(&w.join("dir/secret"), "dir/secret")),
            Some(Refusal::OutsideWatch),
            "a link anywhere along the path counts"
        );
        let never = fence(&w, SymlinkPolicy::Never, &out);
        assert_eq!(refusal(never.open(&w.join("a.txt"), "a.txt")), None);
        assert_eq!(
            refusal(never.open(&w.join("in.txt"), "in.txt")),
            Some(Refusal::Symlink)
        );
        let follow = fence(&w, SymlinkPolicy::Follow, &out);
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut follow.open(&w.join("out.txt"), "out.txt").unwrap().file,
            &mut text,
        )
        .unwrap();
        assert_eq!(text, "secret");
    }

    #[test]
    fn own_files_are_refused_by_identity_and_lookalikes_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let w = dir.path().join("w");
        let out = w.join("out");
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(out.join("events.ndjson"), "{}\n").unwrap();
        std::fs::write(out.join("events-00000000000000000001.ndjson"), "{}\n").unwrap();
        std::fs::write(out.join("events-2024.csv"), "a,b\n").unwrap();
        std::fs::write(out.join("events-.md"), "# x\n").unwrap();
        let f = fence(&w, SymlinkPolicy::Inside, &out);
        symlink(out.join("events.ndjson"), w.join("log.txt")).unwrap();
        symlink(
            out.join("events-00000000000000000001.ndjson"),
            w.join("part.txt"),
        )
        .unwrap();
        std::fs::hard_link(out.join("events.ndjson"), w.join("hard.txt")).unwrap();
        for name in ["log.txt", "part.txt", "hard.txt"] {
            assert_eq!(
                refusal(f.open(&w.join(name), name)),
                Some(Refusal::OwnFile),
                "{name}"
            );
        }
        for name in ["out/events-2024.csv", "out/events-.md"] {
            assert_eq!(refusal(f.open(&w.join(name), name)), None, "{name}");
            assert!(!f.own().is_own_path(&w.join(name)), "{name}");
        }
        assert!(f
            .own()
            .is_own_path(&std::fs::canonicalize(out.join("events.ndjson")).unwrap()));
    }

    #[test]
    fn fifos_are_refused_without_being_opened() {
        let dir = tempfile::tempdir().unwrap();
        let w = dir.path().join("w");
        std::fs::create_dir_all(&w).unwrap();
        let status = std::process::Command::new("mkfifo")
            .arg(w.join("pipe"))
            .status()
            .unwrap();
        assert!(status.success());
        let f = fence(&w, SymlinkPolicy::Inside, &dir.path().join("out"));
        // Opening a FIFO for reading would block until a writer comes: this returns at once.
        assert_eq!(
            refusal(f.open(&w.join("pipe"), "pipe")),
            Some(Refusal::Special("FIFO (named pipe)"))
        );
    }
}
