#!/usr/bin/env bash
# Every check and test: the supply chain (cargo deny), formatting, lints,
# unit tests, protocol tests, and acceptance tests with the real terraform
# against the local EC2 emulator.
set -euo pipefail
source "$(dirname "$0")/common.sh"

prepare_tests

TOOLS="$("$REPO_ROOT/scripts/setup-tools.sh")"

cd "$REPO_ROOT"
# Every crate of Cargo.lock, other platforms' too: cargo deny reads them all
# offline, and a fresh machine has only what a host build would download.
cargo fetch --locked --quiet
# Supply chain, offline: licences, banned and duplicate crates (each
# duplicate listed and justified in deny.toml), sources (crates.io only),
# and the security advisories when a copy of the advisory database is on
# the machine (`cargo deny fetch db` makes one where GitHub is reachable).
CHECKS=(licenses bans sources)
ADVISORY_DBS="${CARGO_HOME:-$HOME/.cargo}/advisory-dbs"
if compgen -G "$ADVISORY_DBS/*/crates" >/dev/null; then
  CHECKS+=(advisories)
else
  echo "cargo deny: advisories NOT checked: no advisory database in $ADVISORY_DBS (run \`$TOOLS/cargo-deny fetch db\` where GitHub is reachable)" >&2
fi
"$TOOLS/cargo-deny" --offline check "${CHECKS[@]}"
cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
if [ $# -eq 0 ]; then
  # The unit tests and the test crate, built once; its modules run four side
  # by side, each in a process of its own (run-tests.py).
  exec python3 "$REPO_ROOT/scripts/run-tests.py" --locked --lib --bins --tests
fi
cargo test --locked --lib --bins --tests "$@"
