#!/usr/bin/env bash
# Run the WorkOS SDK compatibility suite against a fresh Portico server.
#
#   compat/run.sh PORTICO_BIN [DATABASE_URL]
#
# PORTICO_BIN   path to the `portico` binary
# DATABASE_URL  optional PostgreSQL base URL, e.g.
#               postgres://postgres@127.0.0.1:5432/postgres
#               A uniquely named database is created for the run and dropped
#               afterwards. Without it the server uses embedded SQLite.
#
# Installs nothing: run compat/setup.sh first. The browser tests also need
# Chromium at /usr/bin/chromium (or $CHROMIUM_PATH).
# Environment knobs: COMPAT_KEEP=1 keeps the temporary data dir (and its
# server.log); COMPAT_NODE_ONLY=1 / COMPAT_PYTHON_ONLY=1 run one SDK half;
# COMPAT_NO_BROWSER=1 skips the browser tests, COMPAT_BROWSER_ONLY=1 runs
# only them.
#
# The server runs in dev mode (its dev mailbox at /_dev/mail.json is what the
# browser tests read e-mailed codes from), and the bootstrap client also
# allows the redirect URIs in BROWSER_REDIRECT_URIS below: the example apps
# and browser tests listen on those fixed 127.0.0.1 ports.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
  echo "usage: $0 PORTICO_BIN [DATABASE_URL]" >&2
  exit 2
fi

COMPAT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BIN="$1"
BASE_DB_URL="${2:-}"

if [[ "$BIN" != /* ]]; then BIN="$(pwd)/$BIN"; fi
if [[ ! -x "$BIN" ]]; then
  echo "compat: $BIN is not an executable" >&2
  exit 2
fi
if [[ ! -d "$COMPAT/node_modules/workos-v11" || ! -x "$COMPAT/.venv/bin/pytest" ]]; then
  echo "compat: dependencies missing, run compat/setup.sh first" >&2
  exit 2
fi
RUN_SDK=1
RUN_BROWSER=1
if [[ "${COMPAT_BROWSER_ONLY:-}" == 1 ]]; then RUN_SDK=0; fi
if [[ "${COMPAT_NO_BROWSER:-}" == 1 ]]; then RUN_BROWSER=0; fi
if [[ "$RUN_BROWSER" == 1 ]]; then
  if [[ ! -d "$COMPAT/node_modules/playwright-core" ]]; then
    echo "compat: playwright-core missing, run compat/setup.sh first" >&2
    exit 2
  fi
  CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
  if [[ ! -x "$CHROMIUM" ]]; then
    echo "compat: no Chromium at $CHROMIUM; install Debian's chromium package (apt-get install chromium)," >&2
    echo "compat: set CHROMIUM_PATH, or skip the browser tests with COMPAT_NO_BROWSER=1" >&2
    exit 2
  fi
fi

# Redirect URIs the example apps (examples/) and the browser tests use.
BROWSER_REDIRECT_URIS=(
  http://127.0.0.1:3917/callback
  http://127.0.0.1:3918/callback
  http://127.0.0.1:3919/callback
  http://127.0.0.1:3920/callback
)

DATA_DIR="$(mktemp -d "${TMPDIR:-/tmp}/portico-compat.XXXXXX")"
LOG="$DATA_DIR/server.log"
SERVER_PID=""
DB_NAME=""
DB_URL=""

cleanup() {
  local rc=$?
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ -n "$DB_NAME" ]]; then
    psql "$BASE_DB_URL" -v ON_ERROR_STOP=1 -q -c "DROP DATABASE IF EXISTS \"$DB_NAME\" WITH (FORCE)" >/dev/null 2>&1 \
      || echo "compat: could not drop database $DB_NAME" >&2
  fi
  if [[ "${COMPAT_KEEP:-}" == 1 ]]; then
    echo "compat: kept $DATA_DIR (server log: $LOG)"
  else
    rm -rf "$DATA_DIR"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

DB_ARGS=()
if [[ -n "$BASE_DB_URL" ]]; then
  DB_NAME="portico_compat_$(date +%s)_$RANDOM$RANDOM"
  psql "$BASE_DB_URL" -v ON_ERROR_STOP=1 -q -c "CREATE DATABASE \"$DB_NAME\"" >/dev/null
  # Same URL with the database path replaced (query string kept).
  DB_URL="$(python3 - "$BASE_DB_URL" "$DB_NAME" <<'PY'
import sys
from urllib.parse import urlsplit, urlunsplit
base, name = sys.argv[1], sys.argv[2]
u = urlsplit(base)
print(urlunsplit((u.scheme, u.netloc, "/" + name, u.query, u.fragment)))
PY
)"
  DB_ARGS=(--database-url "$DB_URL")
  echo "compat: using PostgreSQL database $DB_NAME"
else
  echo "compat: using embedded SQLite in $DATA_DIR"
fi

# --- bootstrap -------------------------------------------------------------
BOOT_OUT="$("$BIN" bootstrap --json --mode dev --data-dir "$DATA_DIR" "${DB_ARGS[@]}")"
read -r API_KEY CLIENT_ID < <(python3 -c '
import json, sys
for line in reversed(sys.stdin.read().splitlines()):
    line = line.strip()
    if line.startswith("{"):
        d = json.loads(line)
        print(d["api_key"], d["client_id"])
        break
else:
    sys.exit("no JSON line in bootstrap output")
' <<<"$BOOT_OUT") || { echo "compat: bootstrap printed no usable JSON:"; echo "$BOOT_OUT"; exit 1; }

# Keep the bootstrap redirect URI (the SDK tests use its origin) and add ours.
ADD_URIS=()
for uri in "${BROWSER_REDIRECT_URIS[@]}"; do ADD_URIS+=(--add-redirect-uri "$uri"); done
"$BIN" clients update "$CLIENT_ID" "${ADD_URIS[@]}" --mode dev --data-dir "$DATA_DIR" "${DB_ARGS[@]}" >/dev/null \
  || { echo "compat: could not add the browser redirect URIs to $CLIENT_ID" >&2; exit 1; }

# --- serve -----------------------------------------------------------------
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
# public_url on the same host the tests use, so redirects between the hosted
# pages keep the browser on one origin (and its cookies).
# Browsers refuse passkeys for an IP address: the passkey tests reach the same
# server as http://localhost:$PORT, the origin passkeys are configured for.
PORTICO_PASSKEY_RP_ID=localhost PORTICO_PASSKEY_ORIGINS="http://localhost:$PORT" \
"$BIN" serve --mode dev --listen "127.0.0.1:$PORT" --public-url "http://127.0.0.1:$PORT" \
  --data-dir "$DATA_DIR" "${DB_ARGS[@]}" >"$LOG" 2>&1 &
SERVER_PID=$!

ready=0
exited=0
for _ in $(seq 1 300); do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    exited=1
    break
  fi
  if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/ready" 2>/dev/null; then
    ready=1
    break
  fi
  sleep 0.1
done
if [[ "$ready" != 1 ]]; then
  if [[ "$exited" == 1 ]]; then
    echo "compat: server exited before it was ready; server log:" >&2
  else
    echo "compat: server did not become ready within 30 s; server log:" >&2
  fi
  cat "$LOG" >&2 || true
  exit 1
fi
echo "compat: portico ready on 127.0.0.1:$PORT"

export PORTICO_URL="http://127.0.0.1:$PORT"
export PORTICO_PASSKEY_URL="http://localhost:$PORT"
# The Rust example app (examples/b2b-axum) is built next to the server binary.
export PORTICO_EXAMPLE_B2B_BIN="$(dirname "$BIN")/portico-example-b2b"
export PORTICO_API_KEY="$API_KEY"
export PORTICO_CLIENT_ID="$CLIENT_ID"

# --- tests -----------------------------------------------------------------
node_rc=0
py_rc=0
browser_rc=0
if [[ "$RUN_SDK" == 1 && "${COMPAT_PYTHON_ONLY:-}" != 1 ]]; then
  echo "compat: === Node SDKs ($(cd "$COMPAT" && node -p "require('./node_modules/workos-v11/package.json').version + ', ' + require('./node_modules/workos-v10/package.json').version")) ==="
  (cd "$COMPAT" && node --test --test-reporter=spec node/*.test.mjs) || node_rc=$?
fi
if [[ "$RUN_SDK" == 1 && "${COMPAT_NODE_ONLY:-}" != 1 ]]; then
  echo "compat: === Python SDK ==="
  (cd "$COMPAT/python" && "$COMPAT/.venv/bin/pytest" -q --tb=short -p no:cacheprovider .) || py_rc=$?
fi
if [[ "$RUN_BROWSER" == 1 ]]; then
  echo "compat: === Browser ($("$CHROMIUM" --version 2>/dev/null | head -n 1), playwright-core $(cd "$COMPAT" && node -p "require('./node_modules/playwright-core/package.json').version")) ==="
  (cd "$COMPAT" && CHROMIUM_PATH="$CHROMIUM" node --test --test-reporter=spec browser/*.test.mjs) || browser_rc=$?
fi

if [[ "$node_rc" != 0 || "$py_rc" != 0 || "$browser_rc" != 0 ]]; then
  echo "compat: FAILED (node exit $node_rc, python exit $py_rc, browser exit $browser_rc); last server log lines:" >&2
  tail -n 40 "$LOG" >&2 || true
  exit 1
fi
echo "compat: all compatibility tests passed"
