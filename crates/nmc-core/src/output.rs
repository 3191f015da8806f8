//! Output files that appear whole or not at all, and file identity.
//!
//! Every file nmc writes (artifacts, quantized models, spike files, arrays,
//! reports, golden files) goes through [`AtomicFile`]: the bytes go to a
//! temporary file in the destination's directory, which is flushed, synced
//! and then renamed over the final name. A failure or a kill at any point
//! leaves the final name as it was (absent, or the previous complete file);
//! two concurrent writers each rename a complete file, and the last rename
//! wins. A temporary file left by a kill is named `.NAME.nmc-tmp-…` beside
//! the destination.
//!
//! [`same_file`] decides whether two paths name one file by identity
//! (device and inode), not by spelling: `./g.nmcs` and `g.nmcs`, a symlink
//! and its target, and a path that does not exist yet but whose directory is
//! the same as the other's.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A file being written; it appears under its final name on [`commit`](Self::commit).
///
/// Dropped without `commit`, the temporary file is removed and the final
/// name is untouched.
#[derive(Debug)]
pub struct AtomicFile {
    dest: PathBuf,
    tmp: PathBuf,
    out: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// Starts writing `dest`: creates a new temporary file beside it.
    pub fn create(dest: &Path) -> io::Result<Self> {
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = dest
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the output path names no file"))?;
        let mut last = None;
        for _ in 0..16 {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let mut tmp_name = std::ffi::OsString::from(".");
            tmp_name.push(name);
            tmp_name.push(format!(".nmc-tmp-{}-{n}", std::process::id()));
            let tmp = dir.join(tmp_name);
            match OpenOptions::new().write(true).create_new(true).open(&tmp) {
                Ok(f) => {
                    return Ok(AtomicFile {
                        dest: dest.to_path_buf(),
                        tmp,
                        out: Some(BufWriter::new(f)),
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("no free temporary name")))
    }

    /// The final path.
    pub fn path(&self) -> &Path {
        &self.dest
    }

    /// Flushes, syncs and renames the temporary file over the final name,
    /// then syncs the directory.
    pub fn commit(mut self) -> io::Result<()> {
        let out = self
            .out
            .take()
            .ok_or_else(|| io::Error::other("output already finished"))?;
        let finish = |out: BufWriter<File>| -> io::Result<()> {
            let file = out.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
            drop(file);
            fs::rename(&self.tmp, &self.dest)
        };
        if let Err(e) = finish(out) {
            let _ = fs::remove_file(&self.tmp);
            return Err(e);
        }
        if let Some(dir) = self.dest.parent().filter(|p| !p.as_os_str().is_empty()) {
            // Best effort: a directory that cannot be opened for sync (some
            // file systems) does not undo a completed rename.
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }

    fn writer(&mut self) -> io::Result<&mut BufWriter<File>> {
        self.out
            .as_mut()
            .ok_or_else(|| io::Error::other("output already finished"))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer()?.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer()?.flush()
    }
}

impl std::io::Seek for AtomicFile {
    fn seek(&mut self, pos: std::io::SeekFrom) -> io::Result<u64> {
        self.writer()?.seek(pos)
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.out.take().is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// Writes `bytes` to `dest` atomically (see [`AtomicFile`]).
pub fn write_atomic(dest: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = AtomicFile::create(dest)?;
    f.write_all(bytes)?;
    f.commit()
}

/// What identifies a file: (device, inode) when it exists, else the
/// canonical directory plus the file name.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Identity {
    Inode(u64, u64),
    Pending(PathBuf, std::ffi::OsString),
    Unknown(PathBuf),
}

fn identity(p: &Path) -> Identity {
    #[cfg(unix)]
    if let Ok(m) = fs::metadata(p) {
        use std::os::unix::fs::MetadataExt;
        return Identity::Inode(m.dev(), m.ino());
    }
    #[cfg(not(unix))]
    if let Ok(c) = fs::canonicalize(p) {
        return Identity::Unknown(c);
    }
    let dir = match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    match (fs::canonicalize(dir), p.file_name()) {
        (Ok(d), Some(n)) => Identity::Pending(d, n.to_os_string()),
        _ => Identity::Unknown(p.to_path_buf()),
    }
}

/// True when `a` and `b` name the same file (by identity, see the module
/// documentation). Two paths that do not exist yet are the same when their
/// canonical directories and file names are.
pub fn same_file(a: &Path, b: &Path) -> bool {
    identity(a) == identity(b)
}

/// The first pair `(input, output)` of `inputs × outputs` that name the same
/// file, and the first pair of outputs that do.
pub fn first_clash<'a>(inputs: &[&'a Path], outputs: &[&'a Path]) -> Option<(&'a Path, &'a Path)> {
    for o in outputs {
        if let Some(i) = inputs.iter().find(|i| same_file(i, o)) {
            return Some((i, o));
        }
    }
    for (k, o) in outputs.iter().enumerate() {
        if let Some(p) = outputs[k + 1..].iter().find(|p| same_file(p, o)) {
            return Some((o, p));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn scratch(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("nmc-core-output-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    fn listing(d: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn commit_replaces_and_drop_keeps_the_old_file() {
        let d = scratch("commit");
        let p = d.join("out.bin");
        fs::write(&p, b"old").unwrap();
        {
            let mut f = AtomicFile::create(&p).unwrap();
            f.write_all(b"half of a new file").unwrap();
            // Not committed: as if the writer failed half way.
        }
        assert_eq!(fs::read(&p).unwrap(), b"old");
        assert_eq!(listing(&d), vec!["out.bin"], "the temporary file is removed");
        write_atomic(&p, b"new").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"new");
        assert_eq!(listing(&d), vec!["out.bin"]);
    }

    #[test]
    fn two_writers_each_leave_a_complete_file() {
        let d = scratch("two");
        let p = d.join("g.nmcs");
        let mut a = AtomicFile::create(&p).unwrap();
        let mut b = AtomicFile::create(&p).unwrap();
        a.write_all(&[1u8; 1000]).unwrap();
        b.write_all(&[2u8; 2000]).unwrap();
        a.commit().unwrap();
        assert_eq!(fs::read(&p).unwrap(), vec![1u8; 1000]);
        b.commit().unwrap();
        assert_eq!(fs::read(&p).unwrap(), vec![2u8; 2000], "the last rename wins, whole");
    }

    #[test]
    fn identity_not_spelling() {
        let d = scratch("same");
        let p = d.join("g.nmcs");
        fs::write(&p, b"x").unwrap();
        let dotted = d.join(".").join("g.nmcs");
        assert!(same_file(&p, &dotted));
        assert!(!same_file(&p, &d.join("h.nmcs")));
        // Not there yet: same directory and name.
        assert!(same_file(&d.join("new.nmca"), &d.join(".").join("new.nmca")));
        assert!(!same_file(&d.join("new.nmca"), &d.join("other.nmca")));
        #[cfg(unix)]
        {
            let link = d.join("link.nmcs");
            std::os::unix::fs::symlink(&p, &link).unwrap();
            assert!(same_file(&p, &link));
            let hard = d.join("hard.nmcs");
            fs::hard_link(&p, &hard).unwrap();
            assert!(same_file(&p, &hard));
        }
        let i = [p.as_path()];
        let o = [d.join("out.html"), dotted.clone()];
        let o: Vec<&Path> = o.iter().map(PathBuf::as_path).collect();
        assert_eq!(first_clash(&i, &o), Some((p.as_path(), dotted.as_path())));
        let o2 = [d.join("a"), d.join("./a")];
        let o2: Vec<&Path> = o2.iter().map(PathBuf::as_path).collect();
        assert!(first_clash(&[], &o2).is_some(), "two outputs naming one file clash");
    }
}
