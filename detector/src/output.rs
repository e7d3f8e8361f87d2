//! Writing output files so that a reader never sees half a file, and how one output
//! refers to another.

use std::io::Write;
use std::path::{Component, Path};

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`.
/// On error nothing is left at `path` that was not there before.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// `target` relative to the folder `from` (both absolute), `/`-separated: how a file in
/// `from` refers to `target`.
pub fn relative_path(from: &Path, target: &Path) -> String {
    let from: Vec<Component> = from.components().collect();
    let to: Vec<Component> = target.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let up = std::iter::repeat_n("..".to_string(), from.len() - common);
    let down = to[common..].iter().map(|c| c.as_os_str().to_string_lossy().into_owned());
    up.chain(down).collect::<Vec<String>>().join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_relative_to_a_folder_climbs_only_what_it_must() {
        assert_eq!(
            relative_path(Path::new("/work/out"), Path::new("/work/videos/my film.mp4")),
            "../videos/my film.mp4"
        );
        assert_eq!(relative_path(Path::new("/work/out"), Path::new("/work/out/demo.faces")), "demo.faces");
    }

    #[test]
    fn replaces_the_file_and_leaves_no_temporary_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        write_atomically(&path, b"one").unwrap();
        write_atomically(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_missing_directory_is_an_error_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        assert!(write_atomically(&dir.path().join("absent/out.json"), b"x").is_err());
        assert!(!dir.path().join("absent").exists());
    }
}
