//! The local faces folder (`detect --faces`): the chosen crops ([`crate::faces`]) under
//! `<group id>/`, and `templates.json` ([`crate::templates`]). A run replaces the folder
//! whole, so no crop of an earlier run is left for a group that is gone; a folder that
//! cameo did not write is never touched.

use std::path::{Path, PathBuf};

use cameo_model::templates::TemplatesDocument;

use crate::error::{Error, Result};
use crate::faces::{ChosenCrop, FaceCrops, render};

/// The file that marks a folder as cameo's faces folder.
const MARKER: &str = ".cameo-faces";

pub const TEMPLATES_FILE: &str = "templates.json";

/// Writes `chosen` crops and `templates` into `dir`, replacing what an earlier run wrote
/// there. On error `dir` is as it was.
pub fn write_faces_dir(
    dir: &Path,
    chosen: &[ChosenCrop],
    crops: &FaceCrops,
    templates: &TemplatesDocument,
) -> Result<()> {
    let io = |what: &str, path: &Path| {
        let what = format!("cannot {what} {}", path.display());
        move |e: std::io::Error| Error::io(what, e)
    };
    if dir.exists() && !dir.join(MARKER).exists() && !is_empty_dir(dir) {
        return Err(Error::Config(format!(
            "{} holds files cameo did not write: give --faces a new or empty folder",
            dir.display()
        )));
    }
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let staging =
        tempfile::Builder::new().prefix(".cameo-faces-").tempdir_in(parent).map_err(io("write in", parent))?;
    for crop in chosen {
        let path = staging.path().join(&crop.file);
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).map_err(io("create", folder))?;
        }
        std::fs::write(&path, render(crop, crops)?).map_err(io("write", &path))?;
    }
    let json = serde_json::to_vec(templates).map_err(|e| Error::Inference(e.to_string()))?;
    std::fs::write(staging.path().join(TEMPLATES_FILE), json).map_err(io("write", staging.path()))?;
    std::fs::write(staging.path().join(MARKER), b"").map_err(io("write", staging.path()))?;
    // Swap the new folder in, then remove the old one.
    let staged = staging.keep();
    let old: Option<PathBuf> = match dir.exists() {
        true => {
            let old = staged.with_extension("old");
            std::fs::rename(dir, &old).map_err(io("move", dir))?;
            Some(old)
        }
        false => None,
    };
    if let Err(e) = std::fs::rename(&staged, dir) {
        if let Some(old) = &old {
            let _ = std::fs::rename(old, dir);
        }
        let _ = std::fs::remove_dir_all(&staged);
        return Err(Error::io(format!("cannot write {}", dir.display()), e));
    }
    if let Some(old) = old {
        std::fs::remove_dir_all(&old).map_err(io("remove", &old))?;
    }
    Ok(())
}

fn is_empty_dir(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_none())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faces::jpeg;
    use crate::results::ModelInfo;

    fn templates() -> TemplatesDocument {
        TemplatesDocument {
            schema_version: "v".into(),
            recognizer: ModelInfo { name: "m".into(), sha256: "0".into() },
            groups: vec![],
        }
    }

    fn crop(file: &str) -> ChosenCrop {
        ChosenCrop { file: file.into(), path: file.into(), face_id: "f".into(), max_px: 256 }
    }

    #[test]
    fn a_run_replaces_the_folder_whole_and_never_touches_one_it_did_not_write() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("demo.faces");
        let mut crops = FaceCrops::default();
        crops.insert("f".into(), jpeg(&image::RgbImage::new(8, 8)).unwrap());
        write_faces_dir(&dir, &[crop("c1/face-1.jpg")], &crops, &templates()).unwrap();
        assert!(dir.join("c1/face-1.jpg").exists() && dir.join(TEMPLATES_FILE).exists());
        write_faces_dir(&dir, &[crop("c2/face-1.jpg")], &crops, &templates()).unwrap();
        assert!(!dir.join("c1").exists(), "a group that is gone leaves no crop");
        assert!(dir.join("c2/face-1.jpg").exists());
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 1, "no staging folder left behind");

        let theirs = root.path().join("photos");
        std::fs::create_dir(&theirs).unwrap();
        std::fs::write(theirs.join("holiday.jpg"), b"x").unwrap();
        let refused = write_faces_dir(&theirs, &[crop("c1/face-1.jpg")], &crops, &templates());
        assert!(matches!(refused, Err(Error::Config(_))));
        assert!(theirs.join("holiday.jpg").exists());
    }
}
