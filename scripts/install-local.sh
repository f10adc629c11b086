#!/usr/bin/env bash
# Installs a release zip of the provider (from scripts/release.sh) into a
# filesystem mirror, in the packed layout Terraform reads:
#
#   <mirror>/registry.terraform.io/privatelink/planetscale/terraform-provider-planetscale_<version>_<os>_<arch>.zip
#
# and prints the CLI configuration that has `terraform init` install the
# provider from there, and every other provider from its registry. No
# dev_overrides: init records the provider in .terraform.lock.hcl as usual.
#
#   scripts/install-local.sh ZIP [--mirror DIR]
#
# The mirror defaults to ~/.terraform.d/plugins. When the release's
# SHA256SUMS lies next to the zip, the zip must match it.
set -euo pipefail
source "$(dirname "$0")/common.sh"

NAME="terraform-provider-planetscale"

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit "${1:-2}"
}

ZIP=""
MIRROR="$HOME/.terraform.d/plugins"
while [ $# -gt 0 ]; do
  case "$1" in
    --mirror) MIRROR="${2:?--mirror needs a directory}"; shift 2 ;;
    -h|--help) usage 0 ;;
    -*) echo "unknown option: $1" >&2; usage ;;
    *) [ -z "$ZIP" ] || usage; ZIP="$1"; shift ;;
  esac
done
[ -n "$ZIP" ] || usage
[ -f "$ZIP" ] || { echo "no such file: $ZIP" >&2; exit 1; }

FILE="$(basename "$ZIP")"
if [[ ! "$FILE" =~ ^${NAME}_([0-9][^_]*)_([a-z0-9]+)_([a-z0-9]+)\.zip$ ]]; then
  echo "$FILE is not a release zip: expected ${NAME}_<version>_<os>_<arch>.zip (scripts/release.sh makes them)" >&2
  exit 1
fi
VERSION="${BASH_REMATCH[1]}"
OS="${BASH_REMATCH[2]}"

sha256_of() {
  if command -v sha256sum >/dev/null; then
    sha256sum "$1" | cut -d' ' -f1
  else
    shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

SUMS="$(dirname "$ZIP")/${NAME}_${VERSION}_SHA256SUMS"
if [ -f "$SUMS" ]; then
  want="$(awk -v f="$FILE" '$2 == f || $2 == "*" f { print $1 }' "$SUMS")"
  if [ -z "$want" ]; then
    echo "$SUMS does not list $FILE" >&2
    exit 1
  fi
  if [ "$want" != "$(sha256_of "$ZIP")" ]; then
    echo "$FILE does not match its checksum in $SUMS: refusing to install it" >&2
    exit 1
  fi
  echo "==> $FILE matches $(basename "$SUMS")" >&2
fi

MEMBER="${NAME}_v${VERSION}"
[ "$OS" = windows ] && MEMBER="$MEMBER.exe"
python3 - "$ZIP" "$MEMBER" <<'PY' || exit 1
import sys, zipfile
path, member = sys.argv[1:]
try:
    names = zipfile.ZipFile(path).namelist()
except zipfile.BadZipFile as e:
    sys.exit(f"{path} is not a zip file: {e}")
if member not in names:
    sys.exit(f"{path} does not hold {member} (it holds {', '.join(names) or 'nothing'})")
PY

mkdir -p "$MIRROR/$PROVIDER_HOST_SOURCE"
MIRROR="$(cd "$MIRROR" && pwd)"
cp "$ZIP" "$MIRROR/$PROVIDER_HOST_SOURCE/$FILE"
echo "==> installed $MIRROR/$PROVIDER_HOST_SOURCE/$FILE" >&2
echo "    Save this CLI configuration to a file and point TF_CLI_CONFIG_FILE at it (or merge it into ~/.terraformrc):" >&2

cat <<EOF
provider_installation {
  filesystem_mirror {
    path    = "$MIRROR"
    include = ["$PROVIDER_HOST_SOURCE"]
  }
  direct {
    exclude = ["$PROVIDER_HOST_SOURCE"]
  }
}
EOF
