#!/usr/bin/env bash
# The main job: build the provider, start the local EC2 emulator, play
# PlanetScale's side there (an endpoint service with a private DNS name),
# then `terraform apply` examples/complete against it, print the outputs,
# and destroy everything again.
set -euo pipefail
source "$(dirname "$0")/common.sh"

echo "==> installing the EC2 emulator" >&2
MOTO_SERVER="$("$REPO_ROOT/scripts/setup-emulator.sh")"
PYTHON="$(dirname "$MOTO_SERVER")/python"
find_aws_mirror

echo "==> building the provider (release)" >&2
cargo build --release --manifest-path "$REPO_ROOT/Cargo.toml"
TARGET_DIR="${CARGO_TARGET_DIR:-$REPO_ROOT/target}"

WORK="$(mktemp -d)"
MOTO_PID=""
cleanup() {
  if [ -n "$MOTO_PID" ]; then kill "$MOTO_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

PORT="$(free_port)"
echo "==> starting the emulator on 127.0.0.1:$PORT" >&2
"$MOTO_SERVER" -H 127.0.0.1 -p "$PORT" > "$WORK/emulator.log" 2>&1 &
MOTO_PID=$!
for _ in $(seq 1 200); do
  if python3 -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 0.2)" 2>/dev/null; then break; fi
  sleep 0.1
done

export AWS_ENDPOINT_URL="http://127.0.0.1:$PORT"
export AWS_ACCESS_KEY_ID=AKIAEMULATOREXAMPLE AWS_SECRET_ACCESS_KEY=emulator AWS_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null

echo "==> playing PlanetScale's side: creating the branch's endpoint service" >&2
PRIVATE_HOST="demo-branch.private-connect.example.com"
SERVICE_NAME="$("$PYTHON" "$REPO_ROOT/scripts/emulator-service.py" --endpoint "$AWS_ENDPOINT_URL" --private-dns-name "$PRIVATE_HOST")"
echo "    Private Service Name: $SERVICE_NAME" >&2

install_into_mirror "$TARGET_DIR/release/terraform-provider-planetscale" "$WORK/mirror"
write_cli_config "$WORK/terraformrc" "$WORK/mirror"
export TF_CLI_CONFIG_FILE="$WORK/terraformrc" TF_IN_AUTOMATION=1
cp "$REPO_ROOT"/examples/complete/*.tf "$WORK/"
cd "$WORK"
VARS=(-var "service_name=$SERVICE_NAME" -var "private_host=$PRIVATE_HOST")

echo "==> terraform init" >&2
terraform init -input=false -no-color >/dev/null
echo "==> terraform apply" >&2
terraform apply -auto-approve -input=false -no-color "${VARS[@]}"
echo "==> terraform plan (expecting no changes)" >&2
terraform plan -detailed-exitcode -input=false -no-color "${VARS[@]}" >/dev/null
echo "==> terraform destroy" >&2
terraform destroy -auto-approve -input=false -no-color "${VARS[@]}" | tail -n 1
