#!/usr/bin/env bash
# The whole fault matrix (tests/fault_matrix.rs): every call each scenario
# makes, times every fault class and documented error code, with the
# invariants checked on each row. The test command runs a rotating sample
# of it; this runs every row, FAULT_MATRIX_WORKERS at a time (default 3).
#
# Usage: scripts/fault-matrix.sh [scenario,scenario]   (default: all)
# Rerun rows by name: FAULT_MATRIX_ROWS=create/CreateVpcEndpoint#0/black-hole scripts/fault-matrix.sh
set -euo pipefail
source "$(dirname "$0")/common.sh"

prepare_tests

cd "$REPO_ROOT"
if [ -z "${FAULT_MATRIX_ROWS:-}" ]; then
  export FAULT_MATRIX=all
fi
if [ $# -gt 0 ]; then
  export FAULT_MATRIX_SCENARIOS="$1"
fi
exec cargo test --locked --test it fault_matrix:: -- --nocapture
