//! Where `journal export --output` writes: never over the journal itself (however the path
//! names it: the same path, a symlink, a hard link), and through a temporary file in the
//! target's directory renamed over the target, so a failed export leaves no half-written file.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Writes `bytes` to `output`, unless `output` is the journal at `journal`.
pub fn write_file(output: &Path, bytes: &[u8], journal: &Path) -> Result<(), String> {
    if is_the_journal(output, journal) {
        return Err(format!(
            "{} is the journal itself ({}): export to another file",
            output.display(),
            journal.display()
        ));
    }
    let temp = temp_beside(output);
    let written = File::options()
        .write(true)
        .create_new(true)
        .open(&temp)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            file.sync_all()
        })
        .and_then(|()| std::fs::rename(&temp, output));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(format!("cannot write {}: {e}", output.display()));
    }
    // The rename is on disk once the directory is.
    if let Some(dir) = parent(output) {
        let _ = OpenOptions::new()
            .read(true)
            .open(dir)
            .and_then(|d| d.sync_all());
    }
    Ok(())
}

/// Whether `output` names the same file as `journal`: by device and inode (through symlinks
/// and hard links), or by canonical path.
fn is_the_journal(output: &Path, journal: &Path) -> bool {
    let (Ok(out), Ok(j)) = (std::fs::metadata(output), std::fs::metadata(journal)) else {
        return same_canonical(output, journal);
    };
    (out.dev(), out.ino()) == (j.dev(), j.ino()) || same_canonical(output, journal)
}

fn same_canonical(a: &Path, b: &Path) -> bool {
    let canonical = |p: &Path| -> io::Result<PathBuf> {
        let dir = parent(p).unwrap_or(Path::new("."));
        Ok(dir.canonicalize()?.join(p.file_name().unwrap_or_default()))
    };
    matches!((canonical(a), canonical(b)), (Ok(a), Ok(b)) if a == b)
}

fn parent(p: &Path) -> Option<&Path> {
    p.parent().filter(|d| !d.as_os_str().is_empty())
}

/// A name in the target's directory that nothing else uses.
fn temp_beside(output: &Path) -> PathBuf {
    let name = output.file_name().unwrap_or_default().to_string_lossy();
    let temp = format!(".{name}.{}.tmp", std::process::id());
    match parent(output) {
        Some(dir) => dir.join(temp),
        None => PathBuf::from(temp),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("journal.jsonl");
        std::fs::write(&journal, b"{\"kept\":1}\n").unwrap();
        (dir, journal)
    }

    #[test]
    fn refuses_the_journal_by_path_symlink_hard_link_and_dot_path() {
        let (dir, journal) = setup();
        std::os::unix::fs::symlink(&journal, dir.path().join("link")).unwrap();
        std::fs::hard_link(&journal, dir.path().join("hard")).unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        for output in [
            journal.clone(),
            dir.path().join("link"),
            dir.path().join("hard"),
            dir.path().join("sub/../journal.jsonl"),
        ] {
            let err = write_file(&output, b"over", &journal).unwrap_err();
            assert!(err.contains("is the journal itself"), "{output:?}: {err}");
        }
        assert_eq!(std::fs::read(&journal).unwrap(), b"{\"kept\":1}\n");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn writes_through_a_temp_file_and_a_rename() {
        let (dir, journal) = setup();
        let output = dir.path().join("export.md");
        std::fs::write(&output, b"old export").unwrap();
        let before = std::fs::metadata(&output).unwrap().ino();
        write_file(&output, b"new export", &journal).unwrap();
        assert_eq!(std::fs::read(&output).unwrap(), b"new export");
        assert_ne!(
            std::fs::metadata(&output).unwrap().ino(),
            before,
            "a new file renamed over the old one, not the old one rewritten"
        );
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 2, "no temp file left: {names:?}");
    }

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temp() {
        let (dir, journal) = setup();
        let output = dir.path().join("missing-dir/export.md");
        let err = write_file(&output, b"x", &journal).unwrap_err();
        assert!(err.starts_with("cannot write"), "{err}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
