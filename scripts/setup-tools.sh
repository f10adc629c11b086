#!/usr/bin/env bash
# Install the pinned cargo tools the checks use (cargo-deny), built from
# crates.io with their own lock files, and print the directory of their
# binaries.
#
# Environment:
#   PLANETSCALE_TOOLS  install root (default: <repo root>/.tools)
#
# Idempotent: a tool already at its pinned version is not rebuilt. The first
# install compiles cargo-deny (a few minutes on two cores); progress goes to
# stderr, and stdout carries only the bin directory.
set -euo pipefail
source "$(dirname "$0")/common.sh"

CARGO_DENY_VERSION="0.20.2"
ROOT="${PLANETSCALE_TOOLS:-$REPO_ROOT/.tools}"

if ! "$ROOT/bin/cargo-deny" --version 2>/dev/null | grep -qx "cargo-deny $CARGO_DENY_VERSION"; then
  echo "installing cargo-deny $CARGO_DENY_VERSION into $ROOT" >&2
  # Its own target directory: the tool's release build shares nothing with
  # the provider's.
  CARGO_TARGET_DIR="$ROOT/target" cargo install --locked --quiet \
    --version "$CARGO_DENY_VERSION" --root "$ROOT" cargo-deny >&2
  rm -rf "$ROOT/target"
fi
echo "$ROOT/bin"
