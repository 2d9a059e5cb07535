#!/usr/bin/env bash
# The deploy check: what a new user runs, with the README's commands and no extra flags or variables. Installs what
# it needs into .venv (SAM CLI, cargo-lambda with zig, cfn-lint), then: sam validate, sam validate --lint, cfn-lint
# on several parameter sets, sam build, and checks that the built bootstrap is an arm64 (aarch64) ELF.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p target

step() { printf '\n==> %s\n' "$*"; }

scripts/venv.sh
export PATH="$PWD/.venv/bin:$PATH"
# As on a new user's machine: no region anywhere (samconfig.toml gives `sam validate` its own). No call reaches AWS.
unset AWS_DEFAULT_REGION AWS_REGION
export SAM_CLI_TELEMETRY=0

step "rust target for the arm64 function"
if ! rustup target list --installed | grep -qx aarch64-unknown-linux-gnu; then
  rustup target add aarch64-unknown-linux-gnu
fi

step "sam --version"
sam --version

step "sam validate (as the README writes it: no region, no flags)"
sam validate

step "sam validate --lint"
sam validate --lint

step "cfn-lint template.yaml (defaults; discovery off; latent audit off; access-log prefix and a restriction; Kinesis fan-in both ways; approve with a channel)"
cfn-lint template.yaml
cfn-lint template.yaml --parameters Discovery=disabled Suppression=disabled
cfn-lint template.yaml --parameters LatentAuditHours=0 RemediationMode=off
cfn-lint template.yaml --parameters AccessLogGroupPrefix=/aws/apigateway/access- DiscoveryOnly=a1b2c3d4e5 \
  RemediationMode=auto RemediationAllowedFunctions=orders-*,payments
cfn-lint template.yaml --parameters FanIn=kinesis FanInOrganizationId=o-abcdefghij
cfn-lint template.yaml --parameters FanIn=kinesis FanInSenderAccounts=111122223333,444455556666 Suppression=disabled
# approve mode with a channel: the Apply fix custom action, the channel role's invoke-only policy, the outputs.
cfn-lint template.yaml --parameters RemediationMode=approve RemediationAllowedFunctions=orders-* \
  ApprovalChannelArn=arn:aws:chatbot::123456789012:chat-configuration/slack-channel/alerts \
  ApprovalChannelRoleName=alerts-chatbot-role
# the account-wide API Gateway CloudWatch role, and an email.
cfn-lint template.yaml --parameters ApiGatewayAccountRole=create AlertEmail=oncall@example.com
# an organisation: member accounts swept through their role, with the fan-in.
cfn-lint template.yaml --parameters FanIn=kinesis FanInOrganizationId=o-abcdefghij \
  MemberAccounts=111122223333,444455556666 MemberExternalId=apigw-doctor-x

step "cfn-lint member/template.yaml (read-only; healing; organization and external id); no Transform"
cfn-lint member/template.yaml --parameters MonitoringRoleArn=arn:aws:iam::123456789012:role/m
cfn-lint member/template.yaml --parameters MonitoringRoleArn=arn:aws:iam::123456789012:role/m \
  AllowedFunctions=orders-*,payments OrganizationId=o-abcdefghij ExternalId=apigw-doctor-x
if grep -q "^Transform" member/template.yaml; then
  echo "member/template.yaml must be plain CloudFormation (StackSets with service-managed permissions)" >&2
  exit 1
fi

step "sam build (no beta-terms banner)"
sam build 2>&1 | tee target/sam-build.log
if grep -qiE "beta feature|beta terms|experimental features" target/sam-build.log; then
  echo "sam build printed a beta banner: samconfig.toml must not need beta_features" >&2
  exit 1
fi

step "the built function is an aarch64 ELF named bootstrap"
built=.aws-sam/build/Function/bootstrap
python3 - "$built" <<'PY'
import struct, sys
path = sys.argv[1]
with open(path, "rb") as f:
    head = f.read(20)
machine = struct.unpack_from("<H", head, 18)[0]
if head[:4] != b"\x7fELF" or head[4] != 2 or machine != 183:
    sys.exit(f"{path}: not a 64-bit aarch64 ELF (magic {head[:4]!r}, class {head[4]}, e_machine {machine})")
import os
print(f"{path}: ELF 64-bit, aarch64 (e_machine 183), {os.path.getsize(path)} bytes")
# panic = "unwind" reached the build (cargo-lambda adds "abort" to a release profile that does not say): the Rust
# code's landing pads fill .gcc_except_table (about 300 KB here; an abort build keeps only its C dependencies' 5 KB).
with open(path, "rb") as f:
    data = f.read()
shoff = struct.unpack_from("<Q", data, 0x28)[0]
shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
headers = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
names = headers[shstrndx][4]
sizes = {data[names + h[0]:data.index(b"\0", names + h[0])].decode(): h[5] for h in headers}
landing_pads = sizes.get(".gcc_except_table", 0)
if landing_pads < 64 * 1024:
    sys.exit(f"{path}: .gcc_except_table is {landing_pads} bytes: built with panic=abort; Cargo.toml must say panic = \"unwind\"")
print(f"{path}: panic=unwind (.gcc_except_table {landing_pads} bytes of landing pads)")
PY
