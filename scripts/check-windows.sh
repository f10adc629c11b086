#!/usr/bin/env bash
# Type-checks the Windows part of the provider (src/platform/windows.rs)
# on a machine without Windows' standard library: against the real
# windows-sys and tokio (at Cargo.lock's versions), with tokio's Windows
# signal API exposed by `--cfg docsrs` (so a nightly toolchain is needed)
# and std::os::windows::io's handle types stood in with std's signatures.
# It checks names, types and unsafety, not behaviour; a Windows build
# (scripts/release.sh on a machine with the target) is still the proof.
#
#   scripts/check-windows.sh
set -euo pipefail
source "$(dirname "$0")/common.sh"

rustup run nightly rustc --version >/dev/null 2>&1 || {
  echo "a nightly toolchain is needed (rustup toolchain install nightly)" >&2
  exit 1
}
locked() {
  awk -v name="$1" '$0 == "name = \"" name "\"" { getline; gsub(/version = |"/, ""); print; exit }' "$REPO_ROOT/Cargo.lock"
}
windows_sys="$(grep -A1 '^name = "windows-sys"' "$REPO_ROOT/Cargo.lock" | sed -n 's/^version = "\(0\.61\.[0-9]*\)"/\1/p')"
features="$(sed -n 's/^windows-sys = .*features = \(\[.*\]\).*/\1/p' "$REPO_ROOT/Cargo.toml")"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/src"
cat > "$WORK/Cargo.toml" <<TOML
[package]
name = "check-windows"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
tokio = { version = "=$(locked tokio)", features = ["signal", "rt", "sync"] }
tracing = "=$(locked tracing)"
windows-sys = { version = "=$windows_sys", features = $features }
TOML
cat > "$WORK/src/lib.rs" <<'RS'
#![allow(dead_code)]
/// std::os::windows::io's handle types, with std's signatures.
pub mod io {
    pub type RawHandle = *mut core::ffi::c_void;
    pub struct OwnedHandle(RawHandle);
    pub trait FromRawHandle {
        #[allow(clippy::missing_safety_doc)]
        unsafe fn from_raw_handle(handle: RawHandle) -> Self;
    }
    pub trait AsRawHandle {
        fn as_raw_handle(&self) -> RawHandle;
    }
    impl FromRawHandle for OwnedHandle {
        unsafe fn from_raw_handle(handle: RawHandle) -> Self {
            OwnedHandle(handle)
        }
    }
    impl AsRawHandle for OwnedHandle {
        fn as_raw_handle(&self) -> RawHandle {
            self.0
        }
    }
}
pub mod windows;
RS
sed 's/std::os::windows::io::/crate::io::/' "$REPO_ROOT/src/platform/windows.rs" > "$WORK/src/windows.rs"
cp "$REPO_ROOT/Cargo.lock" "$WORK/Cargo.lock"
(cd "$WORK" && RUSTFLAGS="--cfg docsrs -D warnings" CARGO_TARGET_DIR="$WORK/target" \
  cargo +nightly check --offline --quiet)
echo "src/platform/windows.rs type-checks against windows-sys $windows_sys and tokio $(locked tokio)"
