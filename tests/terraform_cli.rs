//! The real terraform against the built provider through dev_overrides:
//! a configuration holding only the provider block validates and plans,
//! and the schema is what `terraform providers schema -json` shows.

use crate::support;

use support::terraform::{SOURCE, provider_binary, terraform_binary};

struct DevOverrides {
    dir: tempfile::TempDir,
}

impl DevOverrides {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let bin_dir = provider_binary().parent().unwrap().to_path_buf();
        std::fs::write(
            dir.path().join("terraformrc"),
            format!(
                "provider_installation {{\n  dev_overrides {{\n    \"{SOURCE}\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
                bin_dir.display()
            ),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("main.tf"),
            format!(
                "{}\nprovider \"planetscale\" {{\n  region = \"us-east-1\"\n}}\n",
                support::Workspace::required_providers(false)
            ),
        )
        .unwrap();
        DevOverrides { dir }
    }

    fn run(&self, args: &[&str]) -> (bool, String, String) {
        let out = support::processes::command(terraform_binary())
            .args(args)
            .current_dir(self.dir.path())
            .env("TF_CLI_CONFIG_FILE", self.dir.path().join("terraformrc"))
            .env("CHECKPOINT_DISABLE", "1")
            .envs(support::isolated_aws_env())
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

#[test]
fn provider_only_configuration_validates_and_plans() {
    let tf = DevOverrides::new();
    let (ok, out, err) = tf.run(&["validate", "-no-color"]);
    assert!(ok, "validate failed:\n{out}\n{err}");
    let (ok, out, err) = tf.run(&["plan", "-no-color", "-input=false"]);
    assert!(ok, "plan failed:\n{out}\n{err}");
    assert!(out.contains("No changes"), "{out}");
}

#[test]
fn providers_schema_shows_the_provider() {
    let tf = DevOverrides::new();
    let (ok, out, err) = tf.run(&["providers", "schema", "-json"]);
    assert!(ok, "providers schema failed:\n{out}\n{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let schemas = &json["provider_schemas"];
    let provider = schemas
        .as_object()
        .unwrap()
        .iter()
        .find(|(k, _)| k.ends_with(SOURCE))
        .map(|(_, v)| v)
        .expect("our provider's schema");
    assert!(provider["provider"]["block"]["attributes"]["region"]["description"].is_string());
    for resource in [
        "planetscale_privatelink_endpoint",
        "planetscale_privatelink_security_group",
    ] {
        let attrs = provider["resource_schemas"][resource]["block"]["attributes"]
            .as_object()
            .expect(resource);
        for (name, a) in attrs {
            assert!(
                a["description"].as_str().is_some_and(|d| !d.is_empty()),
                "{resource}.{name}"
            );
        }
    }
}
