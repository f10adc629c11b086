#!/usr/bin/env bash
# Install a pinned moto (server mode) into a virtualenv, for the provider's
# emulator-backed tests.
#
#   scripts/setup-emulator.sh            # install (or verify) and print the moto_server path
#   MOTO_SERVER="$(scripts/setup-emulator.sh)"
#
# Environment:
#   PLANETSCALE_EMULATOR_VENV  virtualenv location (default: <repo root>/.venv)
#   PYTHON                     interpreter used to create the venv (default: python3)
#
# Idempotent: a stamp file inside the venv records what was installed; when it
# matches, pip is not run at all. Progress goes to stderr; the only thing on
# stdout is the absolute path of moto_server.
#
# Run the emulator (loopback only!) with:
#   AWS_EC2_METADATA_DISABLED=true "$MOTO_SERVER" -H 127.0.0.1 -p <port>
set -euo pipefail

MOTO_VERSION="5.2.5"

# Loose bounds on moto's transitive dependencies: keep pip on the major lines
# that moto 5.2.5 is known to work with (so resolution is a quick, mostly
# wheel-only walk) without pinning exact versions.
CONSTRAINTS="$(cat <<'EOF'
boto3>=1.34,<2
botocore>=1.34,<2,!=1.35.45,!=1.35.46
cryptography>=42
requests>=2.31,<3
urllib3>=1.26,<3
responses>=0.25.6,<1
xmltodict>=0.13,<2
Werkzeug>=3,<4
Flask>=3,<4
flask-cors>=4,<7
cfn-lint>=1,<2
pydantic>=2,<3
docker>=7,<8
PyYAML>=6,<7
jsonschema>=4.18,<5
openapi-spec-validator>=0.7,<1
joserfc>=0.9,<2
aws-xray-sdk>=2.10,<3
graphql-core>=3.2,<4
jsonpath-ng>=1.6,<2
pyparsing>=3.0.7,<4
py-partiql-parser==0.6.3
EOF
)"

log() { printf 'setup-emulator: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd -- "${SCRIPT_DIR}/.." && pwd -P)"
VENV="${PLANETSCALE_EMULATOR_VENV:-${REPO_ROOT}/.venv}"
PYTHON="${PYTHON:-python3}"

STAMP="${VENV}/.moto-emulator-stamp"
MOTO_SERVER="${VENV}/bin/moto_server"
# The stamp covers the pinned version and the constraint set, so editing either
# forces a reinstall.
WANT_STAMP="moto[server]==${MOTO_VERSION} constraints=$(printf '%s' "${CONSTRAINTS}" | cksum | cut -d' ' -f1)"

# Never let anything we run reach out to an instance-metadata endpoint.
export AWS_EC2_METADATA_DISABLED=true
export PIP_DISABLE_PIP_VERSION_CHECK=1

installed_ok() {
    [[ -f "${STAMP}" ]] \
        && [[ "$(cat "${STAMP}")" == "${WANT_STAMP}" ]] \
        && [[ -x "${MOTO_SERVER}" ]] \
        && [[ -x "${VENV}/bin/python" ]] \
        && "${VENV}/bin/python" -c 'import sys' >/dev/null 2>&1
}

# Fast path: nothing to do.
if installed_ok; then
    log "moto ${MOTO_VERSION} already installed in ${VENV}"
    printf '%s\n' "${MOTO_SERVER}"
    exit 0
fi

mkdir -p -- "$(dirname -- "${VENV}")"

# Serialise concurrent runs (e.g. parallel test binaries) on the same venv.
if command -v flock >/dev/null 2>&1; then
    # Keyed on the venv path, kept out of the work tree.
    LOCK="${TMPDIR:-/tmp}/setup-emulator-$(printf '%s' "${VENV}" | cksum | cut -d' ' -f1).lock"
    exec 9>"${LOCK}"
    flock 9
    # Someone else may have finished the install while we waited.
    if installed_ok; then
        log "moto ${MOTO_VERSION} already installed in ${VENV}"
        printf '%s\n' "${MOTO_SERVER}"
        exit 0
    fi
fi

command -v "${PYTHON}" >/dev/null 2>&1 || die "'${PYTHON}' not found (set PYTHON=/path/to/python3)"
"${PYTHON}" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)' \
    || die "moto ${MOTO_VERSION} needs Python >= 3.9; '${PYTHON}' is $("${PYTHON}" -V 2>&1)"

# (Re)create the venv if it is missing or its interpreter is broken.
if ! { [[ -x "${VENV}/bin/python" ]] && "${VENV}/bin/python" -c 'import pip' >/dev/null 2>&1; }; then
    log "creating virtualenv at ${VENV}"
    rm -rf -- "${VENV}"
    if ! "${PYTHON}" -m venv "${VENV}" >&2; then
        rm -rf -- "${VENV}"
        # Debian's python3 without python3-venv has no ensurepip; try virtualenv.
        if "${PYTHON}" -c 'import virtualenv' >/dev/null 2>&1; then
            log "'${PYTHON} -m venv' failed; falling back to virtualenv"
            "${PYTHON}" -m virtualenv --quiet "${VENV}" >&2 \
                || { rm -rf -- "${VENV}"; die "virtualenv failed to create ${VENV}"; }
        else
            die "'${PYTHON} -m venv' failed (on Debian/Ubuntu: apt-get install python3-venv)"
        fi
    fi
fi

rm -f -- "${STAMP}"

CONSTRAINTS_FILE="${VENV}/emulator-constraints.txt"
printf '%s\n' "${CONSTRAINTS}" >"${CONSTRAINTS_FILE}"

log "installing moto[server]==${MOTO_VERSION} into ${VENV}"
"${VENV}/bin/python" -m pip install --quiet --prefer-binary \
    --constraint "${CONSTRAINTS_FILE}" \
    "moto[server]==${MOTO_VERSION}" >&2 \
    || die "pip install of moto[server]==${MOTO_VERSION} failed"

[[ -x "${MOTO_SERVER}" ]] || die "moto_server not found at ${MOTO_SERVER} after install"
got="$("${VENV}/bin/python" -c 'from importlib.metadata import version; print(version("moto"))')"
[[ "${got}" == "${MOTO_VERSION}" ]] || die "expected moto ${MOTO_VERSION}, got ${got}"
# Server mode needs flask/werkzeug importable; fail here rather than at test time.
"${VENV}/bin/python" -c 'import flask, flask_cors, moto.server' >/dev/null \
    || die "moto server-mode imports failed"

printf '%s\n' "${WANT_STAMP}" >"${STAMP}"
log "moto ${MOTO_VERSION} installed; moto_server is at ${MOTO_SERVER}"
printf '%s\n' "${MOTO_SERVER}"
