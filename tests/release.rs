//! Release packaging: `scripts/release.sh` packages the built (debug) binary
//! the way the Terraform Registry expects (a zip per platform, the
//! manifest, SHA256SUMS and, given a key, its detached GPG signature), and
//! `scripts/install-local.sh` puts a zip into a packed filesystem mirror
//! from which `terraform init` installs the provider, with no dev_overrides,
//! and records it in the lock file.
//!
//! The binary is the one `cargo test` built: nothing here builds a release
//! profile.

use crate::support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sha2::{Digest, Sha256};
use support::Workspace;
use support::terraform::provider_binary;

const NAME: &str = "terraform-provider-planetscale";
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Terraform's name for the platform the tests run on.
fn platform() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    format!("{}_{arch}", std::env::consts::OS)
}

fn zip_name() -> String {
    format!("{NAME}_{VERSION}_{}.zip", platform())
}

fn sums_name() -> String {
    format!("{NAME}_{VERSION}_SHA256SUMS")
}

/// Runs one of the project's scripts with a clean signing environment.
fn script(name: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scripts")
        .join(name);
    Command::new(path)
        .args(args)
        .env_remove("GPG_KEY_ID")
        .env_remove("GPG_PASSPHRASE")
        .env_remove("SOURCE_DATE_EPOCH")
        .envs(env.iter().map(|(k, v)| (*k, *v)))
        .envs(support::isolated_aws_env())
        .output()
        .unwrap_or_else(|e| panic!("run scripts/{name}: {e}"))
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `scripts/release.sh --binary <the test build> --out <out>` plus `args`.
fn release(out: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let binary = provider_binary();
    let mut all = vec![
        "--binary",
        binary.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    script("release.sh", &all, env)
}

fn sha256_hex(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The members of a zip as (name, Unix mode, sha256), read with Python's
/// zipfile (Python 3 is a prerequisite of the project, and the crate has
/// no zip reader).
fn zip_members(zip: &Path) -> Vec<(String, u32, String)> {
    let out = Command::new("python3")
        .args([
            "-c",
            "import hashlib, json, sys, zipfile\n\
             z = zipfile.ZipFile(sys.argv[1])\n\
             print(json.dumps([[i.filename, i.external_attr >> 16, hashlib.sha256(z.read(i)).hexdigest()] for i in z.infolist()]))",
        ])
        .arg(zip)
        .output()
        .expect("run python3");
    assert!(out.status.success(), "python3: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("zip listing")
}

/// SHA256SUMS as file name -> hash, in `sha256sum` format.
fn read_sums(path: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| {
            let (hash, name) = line
                .split_once("  ")
                .unwrap_or_else(|| panic!("not a sha256sum line: {line:?}"));
            assert_eq!(hash.len(), 64, "{line:?}");
            (name.to_owned(), hash.to_owned())
        })
        .collect()
}

#[test]
fn release_zip_installs_from_a_mirror_and_terraform_locks_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("dist");
    let run = release(&out, &[], &[]);
    assert!(run.status.success(), "release.sh failed:\n{}", stderr(&run));
    assert!(
        stderr(&run).contains("NOT SIGNED: no GPG key given"),
        "an unsigned release must say so:\n{}",
        stderr(&run)
    );

    let manifest = format!("{NAME}_{VERSION}_manifest.json");
    let mut expected = vec![zip_name(), manifest.clone(), sums_name()];
    expected.sort();
    assert_eq!(file_names(&out), expected, "no signature without a key");

    // One executable at the root of the zip, named for the version.
    let members = zip_members(&out.join(zip_name()));
    assert_eq!(
        members,
        vec![(
            format!("{NAME}_v{VERSION}"),
            0o100755,
            sha256_hex(&provider_binary())
        )]
    );

    // The registry manifest, as committed.
    let read_json = |p: PathBuf| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
    };
    let committed =
        read_json(Path::new(env!("CARGO_MANIFEST_DIR")).join("terraform-registry-manifest.json"));
    assert_eq!(read_json(out.join(&manifest)), committed);
    assert_eq!(
        committed,
        serde_json::json!({"version": 1, "metadata": {"protocol_versions": ["6.0"]}})
    );

    // SHA256SUMS covers the zip and the manifest, correctly.
    let sums = read_sums(&out.join(sums_name()));
    assert_eq!(sums.keys().cloned().collect::<Vec<_>>(), {
        let mut v = vec![zip_name(), manifest];
        v.sort();
        v
    });
    for (name, hash) in &sums {
        assert_eq!(hash, &sha256_hex(&out.join(name)), "{name}");
    }

    // Installed into a packed mirror, terraform init takes it from there.
    let mirror = dir.path().join("mirror");
    let zip = out.join(zip_name());
    let install = script(
        "install-local.sh",
        &[zip.to_str().unwrap(), "--mirror", mirror.to_str().unwrap()],
        &[],
    );
    assert!(
        install.status.success(),
        "install-local.sh failed:\n{}",
        stderr(&install)
    );
    let packed = mirror
        .join("registry.terraform.io/privatelink/planetscale")
        .join(zip_name());
    assert_eq!(sha256_hex(&packed), sha256_hex(&zip));
    let cli_config = String::from_utf8(install.stdout).unwrap();
    assert!(!cli_config.contains("dev_overrides"), "{cli_config}");

    let mut ws = Workspace::new(None);
    ws.write("terraformrc", &cli_config);
    let config_path = ws.path().join("terraformrc");
    ws.set_env("TF_CLI_CONFIG_FILE", config_path.to_str().unwrap());
    ws.write(
        "main.tf",
        &format!(
            "{}\nprovider \"planetscale\" {{\n  region = \"us-east-1\"\n}}\n",
            Workspace::required_providers(false)
        ),
    );
    let init = ws.init();
    assert!(
        init.stdout
            .contains(&format!("Installed privatelink/planetscale v{VERSION}")),
        "{}",
        init.text()
    );
    let lock = std::fs::read_to_string(ws.path().join(".terraform.lock.hcl"))
        .expect("terraform init writes .terraform.lock.hcl");
    assert!(
        lock.contains("provider \"registry.terraform.io/privatelink/planetscale\""),
        "{lock}"
    );
    assert!(lock.contains(&format!("version = \"{VERSION}\"")), "{lock}");
    assert!(
        lock.contains("\"h1:") || lock.contains("\"zh:"),
        "no hash in the lock file:\n{lock}"
    );
    // Plan starts the packaged binary for its schema.
    let plan = ws.ok(&["plan", "-input=false", "-no-color"]);
    assert!(plan.stdout.contains("No changes"), "{}", plan.text());

    // A zip that does not match its SHA256SUMS is refused.
    let tampered = dir.path().join("tampered");
    std::fs::create_dir(&tampered).unwrap();
    std::fs::copy(out.join(sums_name()), tampered.join(sums_name())).unwrap();
    let mut bytes = std::fs::read(&zip).unwrap();
    bytes.extend_from_slice(b"tampered");
    std::fs::write(tampered.join(zip_name()), bytes).unwrap();
    let refused = script(
        "install-local.sh",
        &[
            tampered.join(zip_name()).to_str().unwrap(),
            "--mirror",
            dir.path().join("mirror2").to_str().unwrap(),
        ],
        &[],
    );
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("does not match its checksum"),
        "{}",
        stderr(&refused)
    );
}

/// A throwaway GnuPG home with one signing key; its agent ends with it.
struct Gpg {
    home: tempfile::TempDir,
    fingerprint: String,
}

impl Gpg {
    fn new() -> Gpg {
        let installed = Command::new("gpg")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            installed,
            "gpg is not installed, and release signing cannot be tested without it. Install GnuPG \
             (Debian/Ubuntu: sudo apt-get install gnupg; macOS: brew install gnupg)."
        );
        let home = tempfile::Builder::new()
            .prefix("gpg")
            .tempdir()
            .expect("temp GNUPGHOME");
        let gpg = Gpg {
            home,
            fingerprint: String::new(),
        };
        let made = gpg.run(&[
            "--passphrase",
            "",
            "--quick-generate-key",
            "Release Test <release-test@example.invalid>",
            "ed25519",
            "sign",
            "never",
        ]);
        assert!(made.status.success(), "gpg key: {}", stderr(&made));
        let keys = gpg.run(&["--with-colons", "--list-secret-keys"]);
        let fingerprint = String::from_utf8_lossy(&keys.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("fpr:"))
            .and_then(|rest| rest.trim_matches(':').rsplit(':').next())
            .map(str::to_owned)
            .expect("fingerprint of the new key");
        let mut gpg = gpg;
        gpg.fingerprint = fingerprint;
        gpg
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("gpg")
            .arg("--batch")
            .args(args)
            .env("GNUPGHOME", self.home.path())
            .output()
            .expect("run gpg")
    }
}

impl Drop for Gpg {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .args(["--kill", "gpg-agent"])
            .env("GNUPGHOME", self.home.path())
            .output();
    }
}

#[test]
fn checksums_are_signed_with_the_given_key_and_verify() {
    let gpg = Gpg::new();
    let dir = tempfile::tempdir().unwrap();
    let home = gpg.home.path().to_str().unwrap();

    // The key from GPG_KEY_ID.
    let signed = dir.path().join("signed");
    let run = release(
        &signed,
        &[],
        &[("GNUPGHOME", home), ("GPG_KEY_ID", &gpg.fingerprint)],
    );
    assert!(run.status.success(), "release.sh failed:\n{}", stderr(&run));
    let sums = signed.join(sums_name());
    let sig = signed.join(format!("{}.sig", sums_name()));
    assert!(sig.exists(), "no signature:\n{}", stderr(&run));
    assert!(
        !std::fs::read(&sig).unwrap().starts_with(b"-----BEGIN"),
        "the registry wants a binary signature, not an armored one"
    );
    let verify = gpg.run(&["--verify", sig.to_str().unwrap(), sums.to_str().unwrap()]);
    assert!(verify.status.success(), "gpg --verify: {}", stderr(&verify));
    assert!(
        stderr(&verify).contains(&gpg.fingerprint),
        "{}",
        stderr(&verify)
    );

    // The signature covers the sums: changed sums no longer verify.
    let forged = dir.path().join("forged_SHA256SUMS");
    let text = std::fs::read_to_string(&sums).unwrap();
    let flipped = if text.starts_with('0') { "1" } else { "0" };
    std::fs::write(&forged, format!("{flipped}{}", &text[1..])).unwrap();
    let verify = gpg.run(&["--verify", sig.to_str().unwrap(), forged.to_str().unwrap()]);
    assert!(!verify.status.success(), "a forged SHA256SUMS verified");

    // The same binary and commit give the same bytes, signed or not.
    let unsigned = dir.path().join("unsigned");
    let run = release(&unsigned, &[], &[("GNUPGHOME", home)]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert_eq!(
        std::fs::read(unsigned.join(sums_name())).unwrap(),
        std::fs::read(&sums).unwrap(),
        "packaging is not reproducible"
    );

    // A key that cannot sign fails the release and leaves nothing behind.
    let failed = dir.path().join("failed");
    let run = release(
        &failed,
        &["--gpg-key", "0123456789ABCDEF0123456789ABCDEF01234567"],
        &[("GNUPGHOME", home)],
    );
    assert!(
        !run.status.success(),
        "signing with an unknown key succeeded"
    );
    assert!(
        stderr(&run).contains("no release written"),
        "{}",
        stderr(&run)
    );
    assert!(file_names(&failed).is_empty(), "{:?}", file_names(&failed));
}

/// The header of a Windows x64 executable and nothing more: "MZ", the PE
/// header's offset at 0x3c, "PE\0\0" and the AMD64 machine (0x8664).
fn windows_amd64_header() -> Vec<u8> {
    let mut bytes = vec![0u8; 0x80];
    bytes[..2].copy_from_slice(b"MZ");
    bytes[0x3c..0x40].copy_from_slice(&0x40u32.to_le_bytes());
    bytes[0x40..0x44].copy_from_slice(b"PE\0\0");
    bytes[0x44..0x46].copy_from_slice(&0x8664u16.to_le_bytes());
    bytes
}

#[test]
fn a_binary_is_packaged_only_as_the_platform_its_header_names() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();

    // This build (Linux) passed off as Windows: refused, nothing written.
    let out = dir.path().join("dist");
    let run = release(&out, &["--platform", "windows_amd64"], &[]);
    assert!(!run.status.success(), "a Linux build packaged as Windows");
    assert!(
        stderr(&run).contains(&format!("as windows_amd64: its header says {}", platform())),
        "{}",
        stderr(&run)
    );
    assert!(
        !out.exists() || file_names(&out).is_empty(),
        "nothing written"
    );

    // An executable whose header says Windows x64 is packaged as that,
    // and refused as this platform.
    let exe = dir.path().join("provider.exe");
    std::fs::write(&exe, windows_amd64_header()).unwrap();
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    let exe = exe.to_str().unwrap();
    let out = dir.path().join("windows");
    let run = script(
        "release.sh",
        &[
            "--binary",
            exe,
            "--platform",
            "windows_amd64",
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(
        file_names(&out).contains(&format!("{NAME}_{VERSION}_windows_amd64.zip")),
        "{:?}",
        file_names(&out)
    );
    let run = script(
        "release.sh",
        &["--binary", exe, "--out", out.to_str().unwrap()],
        &[],
    );
    assert!(
        !run.status.success(),
        "a Windows build packaged as {}",
        platform()
    );
}
