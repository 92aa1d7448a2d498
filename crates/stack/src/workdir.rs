//! The demo's working directory: wiped at the start of every run, so it must never be a directory the
//! demo did not make. A run leaves a marker file in it; only a directory holding that marker, or an empty
//! or missing one, is ever used.

use std::io::ErrorKind;
use std::path::Path;

use anyhow::Context;

/// The file that marks a directory as the demo's own, and so as safe to wipe on the next run.
pub const MARKER: &str = ".pxstream-demo";

const MARKER_TEXT: &str = "This directory was created by pxstream-demo. The next demo run with this \
    --dir deletes it and everything in it.\n";

/// Leaves `dir` existing, empty but for the marker. Refuses, touching nothing, a path that is not a
/// directory or a directory with anything in it but no marker.
pub fn prepare(dir: &Path) -> anyhow::Result<()> {
    match std::fs::symlink_metadata(dir) {
        Err(error) if error.kind() == ErrorKind::NotFound => {}
        Err(error) => return Err(error).with_context(|| format!("inspecting {}", dir.display())),
        // A symlink is refused too: wiping its target would reach outside what the user named.
        Ok(meta) if !meta.is_dir() => anyhow::bail!(
            "refusing to use {} as the demo's directory: it exists and is not a directory",
            dir.display()
        ),
        Ok(_) => {
            let marked = dir.join(MARKER).is_file();
            let empty = std::fs::read_dir(dir)
                .with_context(|| format!("reading {}", dir.display()))?
                .next()
                .is_none();
            if !marked && !empty {
                anyhow::bail!(
                    "refusing to use {} as the demo's directory: it is not empty and no previous demo \
                     run created it (it has no {MARKER} file), and the demo wipes its directory. \
                     Choose another --dir, or empty this one yourself",
                    dir.display()
                );
            }
            if marked {
                std::fs::remove_dir_all(dir)
                    .with_context(|| format!("clearing {}", dir.display()))?;
            }
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let marker = dir.join(MARKER);
    std::fs::write(&marker, MARKER_TEXT).with_context(|| format!("writing {}", marker.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_directory_with_foreign_files_is_refused_and_left_intact() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("victim");
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("important.txt"), "x").unwrap();
        std::fs::write(dir.join("sub/more.txt"), "y").unwrap();

        let error = prepare(&dir).unwrap_err().to_string();

        assert!(error.contains(&dir.display().to_string()), "{error}");
        assert_eq!(names(&dir), ["important.txt", "sub"]);
        assert_eq!(
            std::fs::read_to_string(dir.join("important.txt")).unwrap(),
            "x"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("sub/more.txt")).unwrap(),
            "y"
        );
    }

    #[test]
    fn a_missing_or_empty_directory_is_used_and_marked() {
        let tmp = tempfile::tempdir().unwrap();
        let missing = tmp.path().join("a/b");
        prepare(&missing).unwrap();
        assert_eq!(names(&missing), [MARKER]);

        let empty = tmp.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        prepare(&empty).unwrap();
        assert_eq!(names(&empty), [MARKER]);
    }

    #[test]
    fn a_previous_demo_directory_is_wiped() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("demo");
        prepare(&dir).unwrap();
        std::fs::create_dir(dir.join("logs")).unwrap();
        std::fs::write(dir.join("logs/broker.log"), "old").unwrap();

        prepare(&dir).unwrap();

        assert_eq!(names(&dir), [MARKER]);
    }

    #[test]
    fn a_file_or_a_symlink_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("file");
        std::fs::write(&file, "x").unwrap();
        assert!(prepare(&file).is_err());
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");

        let target = tmp.path().join("target");
        prepare(&target).unwrap();
        std::fs::write(target.join("kept"), "k").unwrap();
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(prepare(&link).is_err());
        assert_eq!(names(&target), [MARKER, "kept"]);
    }
}
