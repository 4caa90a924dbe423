#!/usr/bin/env bash
# Acceptance with Contentful's official SDKs (issue 19): serves the demo org with
# `contentful-access sandbox` on a free port, installs contentful-management (npm) and
# contentful-management (PyPI) into a temporary directory, and runs every access call each SDK
# makes (tests/sdk/js/access.mjs, tests/sdk/py/access.py). Needs node/npm, python3 and network
# access to the two registries. .ci/run runs it after `cargo test`. The SDK versions are pinned
# (the last ones checked) so a new SDK release cannot turn CI red unseen; set JS_SDK / PY_SDK to
# try others, e.g. JS_SDK=contentful-management@latest.
#
#   tests/sdk/run.sh                 # builds target/debug/contentful-access if missing
#   CONTENTFUL_ACCESS=path/to/bin tests/sdk/run.sh
#   SDK_DIR=/tmp/sdk tests/sdk/run.sh  # reuse installed SDKs
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="${CONTENTFUL_ACCESS:-$root/target/debug/contentful-access}"
if [[ ! -x "$bin" ]]; then
  (cd "$root" && cargo build --bin contentful-access)
fi
work="${SDK_DIR:-$(mktemp -d)}"
js_sdk="${JS_SDK:-contentful-management@12.18.0}"
py_sdk="${PY_SDK:-contentful-management==2.16.0}"
mkdir -p "$work"

# The demo org plus a token acting for its owner (Olivia), for the owner-only calls.
python3 - "$root/examples/sandbox-org.json" "$work/seed.json" <<'PY'
import json, sys
seed = json.load(open(sys.argv[1]))
seed["apiTokens"].append({"token": "sdk-owner-token", "user": "l57zP3i23fEHL89SzZrrrV"})
json.dump(seed, open(sys.argv[2], "w"))
PY

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$bin" sandbox --seed "$work/seed.json" --port "$port" --rate-limit 0 --token sdk-admin-token \
  >"$work/sandbox.log" 2>&1 &
sandbox=$!
trap 'kill "$sandbox" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  if curl -sf -o /dev/null -H 'Authorization: Bearer sdk-admin-token' "http://127.0.0.1:$port/users/me"; then
    break
  fi
  sleep 0.1
done

if [[ ! -d "$work/node_modules/contentful-management" ]]; then
  (cd "$work" && npm init -y >/dev/null && npm install --no-audit --no-fund "$js_sdk" >/dev/null)
fi
if [[ ! -x "$work/venv/bin/python" ]]; then
  python3 -m venv "$work/venv"
  "$work/venv/bin/pip" install -q "$py_sdk"
fi
echo "SDKs: contentful-management (npm) $(node -p "require('$work/node_modules/contentful-management/package.json').version"), contentful-management (PyPI) $("$work/venv/bin/python" -c 'import contentful_management as c; print(c.__version__)')"

export SANDBOX_HOST="127.0.0.1:$port" SANDBOX_TOKEN=sdk-admin-token SANDBOX_OWNER_TOKEN=sdk-owner-token
status=0
cp "$root/tests/sdk/js/access.mjs" "$work/access.mjs"
(cd "$work" && node access.mjs) || status=1
"$work/venv/bin/python" "$root/tests/sdk/py/access.py" || status=1
exit "$status"
