//! Every example validates with the real terraform, through the local
//! filesystem mirror: what users paste works.

use crate::support;

use std::path::{Path, PathBuf};

use support::Workspace;

/// Every directory under examples/ holding .tf files.
fn example_dirs() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut has_tf = false;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "tf") {
                has_tf = true;
            }
        }
        if has_tf {
            out.push(dir.to_path_buf());
        }
    }
    let mut out = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"),
        &mut out,
    );
    out.sort();
    out
}

#[test]
fn every_example_validates() {
    let dirs = example_dirs();
    assert!(dirs.len() >= 4, "{dirs:?}");
    for dir in dirs {
        let ws = Workspace::new(None);
        let mut needs_required_providers = true;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "tf") {
                let text = std::fs::read_to_string(&path).unwrap();
                needs_required_providers &= !text.contains("required_providers");
                std::fs::write(ws.path().join(path.file_name().unwrap()), text).unwrap();
            }
        }
        if needs_required_providers {
            ws.write("versions.tf", &Workspace::required_providers(false));
        }
        ws.init();
        let run = ws.run(&["validate", "-no-color"]);
        assert!(
            run.success(),
            "{} does not validate:\n{}",
            dir.display(),
            run.text()
        );
    }
}

#[test]
fn every_resource_has_an_example_and_an_import_script() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/resources");
    for resource in terraform_provider_planetscale::server().resources.keys() {
        let dir = root.join(resource);
        assert!(
            dir.join("resource.tf").is_file(),
            "{resource} has no example"
        );
        let import = std::fs::read_to_string(dir.join("import.sh")).unwrap_or_default();
        assert!(
            import.contains(&format!("terraform import {resource}.")),
            "{resource} has no import.sh"
        );
    }
}

#[test]
fn every_data_source_has_an_example() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data-sources");
    for data_source in terraform_provider_planetscale::server().data_sources.keys() {
        let example = std::fs::read_to_string(root.join(data_source).join("data-source.tf"))
            .unwrap_or_default();
        assert!(
            example.contains(&format!("data \"{data_source}\"")),
            "{data_source} has no example"
        );
    }
}
