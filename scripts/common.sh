# Shared by the project's scripts; source it, don't run it.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROVIDER_HOST_SOURCE="registry.terraform.io/privatelink/planetscale"
PROVIDER_VERSION="$(sed -n 's/^version = "\(.*\)"/\1/p' "$REPO_ROOT/Cargo.toml" | head -n 1)"

# Nothing the scripts start may reach for the EC2 instance metadata address.
export AWS_EC2_METADATA_DISABLED=true
export CHECKPOINT_DISABLE=1

# The filesystem mirror holding hashicorp/aws: TF_AWS_PROVIDER_MIRROR when
# set, else one found on this machine (machine images often carry one), else
# nothing and terraform installs hashicorp/aws from the registry.
find_aws_mirror() {
  if [ -n "${TF_AWS_PROVIDER_MIRROR:-}" ]; then
    return
  fi
  local found
  found="$(find / -maxdepth 5 -xdev -type d -path '*/registry.terraform.io/hashicorp/aws' 2>/dev/null | head -n 1 || true)"
  if [ -n "$found" ]; then
    TF_AWS_PROVIDER_MIRROR="$(dirname "$(dirname "$(dirname "$found")")")"
    export TF_AWS_PROVIDER_MIRROR
    echo "using the hashicorp/aws mirror at $TF_AWS_PROVIDER_MIRROR" >&2
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Writes a CLI configuration to $1 that installs our provider from the
# unpacked mirror $2, and hashicorp/* from TF_AWS_PROVIDER_MIRROR or the registry.
write_cli_config() {
  local config="$1" mirror="$2"
  {
    echo "provider_installation {"
    echo "  filesystem_mirror {"
    echo "    path    = \"$mirror\""
    echo "    include = [\"$PROVIDER_HOST_SOURCE\"]"
    echo "  }"
    if [ -n "${TF_AWS_PROVIDER_MIRROR:-}" ]; then
      echo "  filesystem_mirror {"
      echo "    path    = \"$TF_AWS_PROVIDER_MIRROR\""
      echo "    include = [\"registry.terraform.io/hashicorp/*\"]"
      echo "  }"
      echo "  direct {"
      echo "    exclude = [\"$PROVIDER_HOST_SOURCE\", \"registry.terraform.io/hashicorp/*\"]"
      echo "  }"
    else
      echo "  direct {"
      echo "    exclude = [\"$PROVIDER_HOST_SOURCE\"]"
      echo "  }"
    fi
    echo "}"
  } > "$config"
}

# Puts a built binary ($1) into an unpacked filesystem mirror under $2.
install_into_mirror() {
  local binary="$1" mirror="$2"
  local dir="$mirror/$PROVIDER_HOST_SOURCE/$PROVIDER_VERSION/linux_amd64"
  mkdir -p "$dir"
  cp "$binary" "$dir/terraform-provider-planetscale_v$PROVIDER_VERSION"
}

# What every test run needs: the emulator installed (into
# PLANETSCALE_EMULATOR_VENV, default .venv in the clone), the hashicorp/aws
# mirror found, and terraform on PATH.
prepare_tests() {
  "$REPO_ROOT/scripts/setup-emulator.sh" >/dev/null
  if [ -z "${PLANETSCALE_EMULATOR_VENV:-}" ]; then
    export PLANETSCALE_EMULATOR_VENV="$REPO_ROOT/.venv"
  fi
  find_aws_mirror
  command -v terraform >/dev/null || {
    echo "terraform is not on PATH: install Terraform 1.11 or later (https://developer.hashicorp.com/terraform/install)" >&2
    exit 1
  }
}
