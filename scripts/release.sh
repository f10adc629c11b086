#!/usr/bin/env bash
# Packages the provider as the Terraform Registry (and any provider mirror)
# expects a release, into an output directory:
#
#   terraform-provider-planetscale_<version>_<os>_<arch>.zip   one per platform, each
#                                                              holding terraform-provider-planetscale_v<version>
#   terraform-provider-planetscale_<version>_manifest.json     terraform-registry-manifest.json
#   terraform-provider-planetscale_<version>_SHA256SUMS        of the zips and the manifest
#   terraform-provider-planetscale_<version>_SHA256SUMS.sig    detached GPG signature of the sums
#
# The version is Cargo.toml's. Without --binary, it builds a release binary
# for every installed Rust target that is a Terraform platform (see
# `rustup target list --installed`) and lists the release platforms it
# could not build. With --binary, it packages that one binary for the host
# platform (or --platform) and builds nothing; it refuses a binary whose
# own header (ELF, Mach-O or PE, and its machine) names another platform, so
# nothing is ever packaged as a platform it was not built for.
#
# Signing needs a key: --gpg-key <fingerprint or id>, or GPG_KEY_ID. Without
# one the sums are left unsigned, and the script says so. With one, any
# failure to sign fails the release. GPG_PASSPHRASE, when set, unlocks the
# key without a prompt (for CI).
#
#   scripts/release.sh [--out DIR] [--gpg-key KEY] [--binary PATH [--platform OS_ARCH]]
set -euo pipefail
source "$(dirname "$0")/common.sh"

NAME="terraform-provider-planetscale"

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit "${1:-2}"
}

OUT="$REPO_ROOT/dist"
BINARY=""
PLATFORM=""
GPG_KEY="${GPG_KEY_ID:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="${2:?--out needs a directory}"; shift 2 ;;
    --binary) BINARY="${2:?--binary needs a path}"; shift 2 ;;
    --platform) PLATFORM="${2:?--platform needs OS_ARCH, such as linux_amd64}"; shift 2 ;;
    --gpg-key) GPG_KEY="${2:?--gpg-key needs a key id or fingerprint}"; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "unknown argument: $1" >&2; usage ;;
  esac
done
if [ -n "$PLATFORM" ] && [ -z "$BINARY" ]; then
  echo "--platform names the platform of --binary; without --binary every installed target is built" >&2
  exit 2
fi

# The release platforms and the Rust target each is built from.
RELEASE_TARGETS=(
  x86_64-unknown-linux-gnu
  aarch64-unknown-linux-gnu
  x86_64-apple-darwin
  aarch64-apple-darwin
  x86_64-pc-windows-msvc
  aarch64-pc-windows-msvc
  x86_64-unknown-freebsd
)

# Terraform's os_arch for a Rust target triple; fails for triples that are
# no Terraform platform.
platform_of() {
  local triple="$1" arch os
  case "$triple" in
    x86_64-*) arch=amd64 ;;
    aarch64-*) arch=arm64 ;;
    i686-*|i586-*) arch=386 ;;
    armv7-*|arm-*) arch=arm ;;
    *) return 1 ;;
  esac
  case "$triple" in
    *-linux-*) os=linux ;;
    *-apple-darwin) os=darwin ;;
    *-windows-*) os=windows ;;
    *-freebsd) os=freebsd ;;
    *-openbsd) os=openbsd ;;
    *) return 1 ;;
  esac
  echo "${os}_${arch}"
}

# Terraform's os_arch for an executable, read from its header: ELF (Linux,
# or FreeBSD by its OS/ABI byte), Mach-O (macOS) or PE (Windows), and the
# machine each names. Prints nothing for anything else.
platform_of_binary() {
  python3 - "$1" <<'PY'
import struct, sys
with open(sys.argv[1], "rb") as f:
    head = f.read(4096)
os = arch = None
if head[:4] == b"\x7fELF" and len(head) >= 20:
    os = "freebsd" if head[7] == 9 else "linux"
    order = "<" if head[5] == 1 else ">"
    arch = {62: "amd64", 183: "arm64", 3: "386", 40: "arm"}.get(struct.unpack(order + "H", head[18:20])[0])
elif head[:4] == b"\xcf\xfa\xed\xfe" and len(head) >= 8:
    os = "darwin"
    arch = {0x01000007: "amd64", 0x0100000C: "arm64"}.get(struct.unpack("<I", head[4:8])[0])
elif head[:2] == b"MZ" and len(head) >= 64:
    pe = struct.unpack("<I", head[60:64])[0]
    if head[pe:pe + 4] == b"PE\0\0":
        os = "windows"
        arch = {0x8664: "amd64", 0xAA64: "arm64", 0x14C: "386"}.get(struct.unpack("<H", head[pe + 4:pe + 6])[0])
if os and arch:
    print(f"{os}_{arch}")
PY
}

host_triple() {
  rustc -vV | sed -n 's/^host: //p'
}

sha256() {
  if command -v sha256sum >/dev/null; then
    sha256sum "$@"
  else
    shasum -a 256 "$@"
  fi
}

# Zips one binary as the registry expects: a single executable file at the
# root, named for the version. Written by Python's zipfile (Python 3 is a
# prerequisite of the project) so that the same binary and commit always give
# the same bytes: fixed time stamp (SOURCE_DATE_EPOCH, else the last commit's
# time), fixed permissions.
zip_binary() {
  local binary="$1" member="$2" zip="$3"
  python3 - "$binary" "$member" "$zip" "$SOURCE_DATE_EPOCH" <<'PY'
import sys, time, zipfile
binary, member, target, epoch = sys.argv[1:]
info = zipfile.ZipInfo(member, time.gmtime(max(int(epoch), 315532800))[:6])
info.external_attr = (0o100755 << 16)
info.create_system = 3  # Unix, so the mode bits count
info.compress_type = zipfile.ZIP_DEFLATED
with open(binary, "rb") as f, zipfile.ZipFile(target, "w") as z:
    z.writestr(info, f.read(), compresslevel=9)
PY
}

if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH="$(git -C "$REPO_ROOT" log -1 --format=%ct 2>/dev/null || date +%s)"
fi

# What to package: (platform, binary) pairs.
PLATFORMS=()
BINARIES=()
if [ -n "$BINARY" ]; then
  [ -x "$BINARY" ] || { echo "--binary $BINARY is not an executable file" >&2; exit 1; }
  if [ -z "$PLATFORM" ]; then
    PLATFORM="$(platform_of "$(host_triple)")" || { echo "the host is no Terraform platform: give --platform" >&2; exit 1; }
  fi
  built_for="$(platform_of_binary "$BINARY")"
  if [ "$built_for" != "$PLATFORM" ]; then
    echo "refusing to package $BINARY as $PLATFORM: its header says ${built_for:-no Terraform platform}; build it for $PLATFORM (cargo build --release --target <triple>) and package that" >&2
    exit 1
  fi
  echo "==> packaging $BINARY as $PLATFORM (no build)" >&2
  PLATFORMS+=("$PLATFORM")
  BINARIES+=("$BINARY")
else
  TARGET_DIR="${CARGO_TARGET_DIR:-$REPO_ROOT/target}"
  INSTALLED=()
  if command -v rustup >/dev/null; then
    while read -r triple; do INSTALLED+=("$triple"); done < <(rustup target list --installed)
  else
    INSTALLED=("$(host_triple)")
  fi
  for triple in "${INSTALLED[@]}"; do
    if ! platform="$(platform_of "$triple")"; then
      echo "    $triple: no Terraform platform, skipped" >&2
      continue
    fi
    if [[ " ${PLATFORMS[*]} " == *" $platform "* ]]; then
      echo "    $triple: $platform is already built from another target, skipped" >&2
      continue
    fi
    echo "==> building $platform ($triple, release)" >&2
    cargo build --release --locked --manifest-path "$REPO_ROOT/Cargo.toml" --target "$triple"
    exe=""
    [[ "$triple" == *-windows-* ]] && exe=".exe"
    binary="$TARGET_DIR/$triple/release/$NAME$exe"
    if [ "$(platform_of_binary "$binary")" != "$platform" ]; then
      echo "the build for $triple did not produce a $platform executable at $binary" >&2
      exit 1
    fi
    PLATFORMS+=("$platform")
    BINARIES+=("$binary")
  done
  for triple in "${RELEASE_TARGETS[@]}"; do
    platform="$(platform_of "$triple")"
    if [[ " ${PLATFORMS[*]} " != *" $platform "* ]]; then
      echo "    not built: $platform (its Rust target is not installed: rustup target add $triple, plus a linker for it)" >&2
    fi
  done
fi
if [ ${#PLATFORMS[@]} -eq 0 ]; then
  echo "nothing to package: no installed Rust target is a Terraform platform" >&2
  exit 1
fi

mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
PREFIX="${NAME}_${PROVIDER_VERSION}"
rm -f "$OUT/${PREFIX}"_*
ARTIFACTS=()
for i in "${!PLATFORMS[@]}"; do
  platform="${PLATFORMS[$i]}"
  member="${NAME}_v${PROVIDER_VERSION}"
  [[ "$platform" == windows_* ]] && member="$member.exe"
  zip_binary "${BINARIES[$i]}" "$member" "$OUT/${PREFIX}_${platform}.zip"
  ARTIFACTS+=("${PREFIX}_${platform}.zip")
done
cp "$REPO_ROOT/terraform-registry-manifest.json" "$OUT/${PREFIX}_manifest.json"
ARTIFACTS+=("${PREFIX}_manifest.json")

SUMS="${PREFIX}_SHA256SUMS"
(cd "$OUT" && sha256 "${ARTIFACTS[@]}" > "$SUMS")

if [ -n "$GPG_KEY" ]; then
  echo "==> signing $SUMS with key $GPG_KEY" >&2
  # A binary (not armored) detached signature, as the registry expects.
  GPG_ARGS=(--batch --yes --local-user "$GPG_KEY" --output "$OUT/$SUMS.sig" --detach-sign)
  signed=true
  if [ -n "${GPG_PASSPHRASE:-}" ]; then
    gpg --pinentry-mode loopback --passphrase-fd 3 "${GPG_ARGS[@]}" "$OUT/$SUMS" 3<<<"$GPG_PASSPHRASE" || signed=false
  else
    gpg "${GPG_ARGS[@]}" "$OUT/$SUMS" || signed=false
  fi
  if [ "$signed" = false ]; then
    # Leave nothing that could pass for an unsigned release.
    rm -f "$OUT/${PREFIX}"_*
    echo "signing with key $GPG_KEY failed (see gpg's message above): no release written" >&2
    exit 1
  fi
  ARTIFACTS+=("$SUMS.sig")
else
  echo "==> NOT SIGNED: no GPG key given (--gpg-key or GPG_KEY_ID), so there is no $SUMS.sig." >&2
  echo "    The Terraform Registry refuses a release without it; sign with the key registered there." >&2
fi
ARTIFACTS+=("$SUMS")

echo "==> $NAME $PROVIDER_VERSION in $OUT:" >&2
for a in "${ARTIFACTS[@]}"; do
  echo "$OUT/$a"
done
