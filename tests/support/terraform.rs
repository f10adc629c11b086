//! Runs the real `terraform` against the freshly built provider.
//!
//! The binary is placed in a temporary unpacked filesystem mirror (one per
//! test process) and a CLI configuration points Terraform at it; hashicorp/aws
//! comes from the mirror named by TF_AWS_PROVIDER_MIRROR when there is one,
//! else from the registry as usual.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value as Json;

pub const SOURCE: &str = "privatelink/planetscale";
const HOST_SOURCE: &str = "registry.terraform.io/privatelink/planetscale";
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The built provider binary.
pub fn provider_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-planetscale"))
}

/// The terraform binary, or a loud failure saying how to get one.
pub fn terraform_binary() -> PathBuf {
    static FOUND: OnceLock<PathBuf> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            let name = std::env::var_os("TERRAFORM").unwrap_or_else(|| "terraform".into());
            let ok = Command::new(&name)
                .arg("version")
                .output()
                .is_ok_and(|o| o.status.success());
            assert!(
                ok,
                "terraform is not on PATH. Install Terraform 1.11 or later \
                 (https://developer.hashicorp.com/terraform/install) or set TERRAFORM to its path."
            );
            PathBuf::from(name)
        })
        .clone()
}

/// One directory holding the mirror with our binary and the CLI config, for
/// the whole test process.
struct Mirror {
    _dir: tempfile::TempDir,
    cli_config: PathBuf,
}

fn mirror() -> &'static Mirror {
    static MIRROR: OnceLock<Mirror> = OnceLock::new();
    MIRROR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let platform = dir
            .path()
            .join("mirror")
            .join(HOST_SOURCE)
            .join(VERSION)
            .join("linux_amd64");
        std::fs::create_dir_all(&platform).expect("mirror dir");
        let target = platform.join(format!("terraform-provider-planetscale_v{VERSION}"));
        if std::fs::hard_link(provider_binary(), &target).is_err() {
            std::fs::copy(provider_binary(), &target).expect("copy provider into mirror");
        }
        let mut config = format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"{HOST_SOURCE}\"]\n  }}\n",
            dir.path().join("mirror").display()
        );
        match std::env::var("TF_AWS_PROVIDER_MIRROR").ok().filter(|m| !m.is_empty()) {
            Some(aws) => config.push_str(&format!(
                "  filesystem_mirror {{\n    path    = \"{aws}\"\n    include = [\"registry.terraform.io/hashicorp/*\"]\n  }}\n}}\n"
            )),
            None => config.push_str(&format!(
                "  direct {{\n    exclude = [\"{HOST_SOURCE}\"]\n  }}\n}}\n"
            )),
        }
        let cli_config = dir.path().join("terraformrc");
        std::fs::write(&cli_config, config).expect("write CLI config");
        Mirror { _dir: dir, cli_config }
    })
}

/// A Terraform working directory with the environment of one test.
///
/// Every command runs with the provider logging at TRACE into a log file,
/// and every run's provider lines are searched for the credentials and
/// tokens of the test: a secret in a log fails the test that leaked it.
pub struct Workspace {
    pub dir: tempfile::TempDir,
    pub env: Vec<(String, String)>,
    /// Strings that must never appear in the provider's log lines.
    pub secrets: Vec<String>,
}

/// The result of one terraform command.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn success(&self) -> bool {
        self.code == 0
    }
    /// stdout and stderr together, for matching diagnostics.
    pub fn text(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// stdout and stderr with runs of white space folded to one space, so
    /// phrases match however Terraform wrapped them.
    pub fn flat(&self) -> String {
        self.text().split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Workspace {
    /// A workspace whose AWS calls go to `endpoint` (the emulator, or a proxy
    /// in front of it) through AWS_ENDPOINT_URL.
    pub fn new(endpoint: Option<&str>) -> Workspace {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut env: Vec<(String, String)> = super::isolated_aws_env()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        env.push((
            "TF_CLI_CONFIG_FILE".into(),
            mirror().cli_config.display().to_string(),
        ));
        env.push(("TF_IN_AUTOMATION".into(), "1".into()));
        env.push(("CHECKPOINT_DISABLE".into(), "1".into()));
        if let Some(url) = endpoint {
            env.push(("AWS_ENDPOINT_URL".into(), url.to_owned()));
        }
        env.push(("TF_LOG_PROVIDER".into(), "trace".into()));
        env.push((
            "TF_LOG_PATH".into(),
            dir.path().join("provider.log").display().to_string(),
        ));
        let secrets = super::isolated_aws_env()
            .into_iter()
            .filter(|(k, _)| {
                matches!(
                    *k,
                    "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" | "AWS_SESSION_TOKEN"
                )
            })
            .map(|(_, v)| v)
            .collect();
        Workspace { dir, env, secrets }
    }

    /// The same workspace without provider logging, for measurements.
    pub fn without_logs(mut self) -> Self {
        self.env
            .retain(|(k, _)| k != "TF_LOG_PROVIDER" && k != "TF_LOG_PATH");
        self
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_owned(), value.to_owned()));
    }

    pub fn write(&self, name: &str, contents: &str) {
        std::fs::write(self.path().join(name), contents).expect("write configuration");
    }

    /// The `terraform { required_providers }` block every configuration needs.
    pub fn required_providers(with_aws: bool) -> String {
        let aws = if with_aws {
            "    aws = {\n      source  = \"hashicorp/aws\"\n      version = \">= 5.0\"\n    }\n"
        } else {
            ""
        };
        format!(
            "terraform {{\n  required_providers {{\n    planetscale = {{\n      source = \"{SOURCE}\"\n    }}\n{aws}  }}\n}}\n"
        )
    }

    pub fn run(&self, args: &[&str]) -> Run {
        let run: Run = super::processes::command(terraform_binary())
            .args(args)
            .current_dir(self.path())
            .env_remove("TF_LOG")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .output()
            .expect("run terraform")
            .into();
        self.assert_no_secret_logged();
        run
    }

    /// Fails when a secret of this test appears in a log line of this
    /// provider (other providers' logs are theirs to answer for).
    pub fn assert_no_secret_logged(&self) {
        let Some((_, path)) = self.env.iter().rev().find(|(k, _)| k == "TF_LOG_PATH") else {
            return;
        };
        let Ok(log) = std::fs::read_to_string(path) else {
            return;
        };
        for line in log
            .lines()
            .filter(|l| l.contains("terraform-provider-planetscale"))
        {
            for secret in &self.secrets {
                assert!(
                    !line.contains(secret.as_str()),
                    "a secret reached the provider's log:\n{line}"
                );
            }
        }
    }

    /// Runs a command that must succeed, failing the test with its output.
    pub fn ok(&self, args: &[&str]) -> Run {
        let run = self.run(args);
        assert!(
            run.success(),
            "terraform {} failed ({}):\n{}",
            args.join(" "),
            run.code,
            run.text()
        );
        run
    }

    pub fn init(&self) -> Run {
        self.ok(&["init", "-input=false", "-no-color"])
    }

    pub fn apply(&self) -> Run {
        self.ok(&["apply", "-auto-approve", "-input=false", "-no-color"])
    }

    pub fn try_apply(&self) -> Run {
        self.run(&["apply", "-auto-approve", "-input=false", "-no-color"])
    }

    pub fn destroy(&self) -> Run {
        self.ok(&["destroy", "-auto-approve", "-input=false", "-no-color"])
    }

    /// `terraform plan -detailed-exitcode`: 0 no changes, 2 changes.
    pub fn plan_code(&self) -> Run {
        let run = self.run(&["plan", "-detailed-exitcode", "-input=false", "-no-color"]);
        assert!(
            run.code == 0 || run.code == 2,
            "terraform plan failed:\n{}",
            run.text()
        );
        run
    }

    pub fn assert_no_changes(&self) {
        let run = self.plan_code();
        assert_eq!(run.code, 0, "expected an empty plan, got:\n{}", run.stdout);
    }

    /// The saved plan as JSON (`terraform show -json` of `plan -out`).
    pub fn plan_json(&self) -> Json {
        self.ok(&["plan", "-input=false", "-no-color", "-out=tfplan"]);
        let run = self.ok(&["show", "-json", "tfplan"]);
        serde_json::from_str(&run.stdout).expect("plan JSON")
    }

    /// The state as JSON.
    pub fn state(&self) -> Json {
        let run = self.ok(&["show", "-json"]);
        serde_json::from_str(&run.stdout).expect("state JSON")
    }

    /// The values of one resource in state, by address.
    pub fn resource(&self, address: &str) -> Json {
        let state = self.state();
        find_resource(&state["values"]["root_module"], address)
            .unwrap_or_else(|| panic!("{address} is not in state:\n{state:#}"))
    }

    pub fn outputs(&self) -> Json {
        let run = self.ok(&["output", "-json"]);
        serde_json::from_str(&run.stdout).expect("outputs JSON")
    }
}

/// The whole state entry of a resource instance (values, `tainted`...), by address.
pub fn find_in_state(state: &Json, address: &str) -> Option<Json> {
    fn walk(module: &Json, address: &str) -> Option<Json> {
        for r in module["resources"].as_array().into_iter().flatten() {
            if r["address"] == address {
                return Some(r.clone());
            }
        }
        module["child_modules"]
            .as_array()
            .into_iter()
            .flatten()
            .find_map(|c| walk(c, address))
    }
    walk(&state["values"]["root_module"], address)
}

fn find_resource(module: &Json, address: &str) -> Option<Json> {
    for r in module["resources"].as_array().into_iter().flatten() {
        if r["address"] == address {
            return Some(r["values"].clone());
        }
    }
    for child in module["child_modules"].as_array().into_iter().flatten() {
        if let Some(found) = find_resource(child, address) {
            return Some(found);
        }
    }
    None
}

/// The resource changes of a plan, as (address, actions).
pub fn planned_actions(plan: &Json) -> Vec<(String, Vec<String>)> {
    plan["resource_changes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|rc| {
            let actions = rc["change"]["actions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a.as_str().map(str::to_owned))
                .collect();
            (
                rc["address"].as_str().unwrap_or_default().to_owned(),
                actions,
            )
        })
        .collect()
}
