#!/usr/bin/env bash
# Install the SDKs used by the compatibility suite. Idempotent and quiet:
#   compat/node_modules     <- npm ci (both @workos-inc/node majors, via
#                              aliases; playwright-core for the browser tests)
#   compat/.venv            <- workos (PyPI), pytest, bcrypt
#   examples/*/node_modules <- npm ci (the example apps the browser tests run)
# playwright-core downloads no browser: the browser tests drive the system
# Chromium (/usr/bin/chromium).
set -euo pipefail

COMPAT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$COMPAT"

# npm: reinstall when the lock file changed since the last install or a
# package is missing.
stamp="node_modules/.compat-lock-stamp"
if [[ ! -f "$stamp" ]] || ! cmp -s package-lock.json "$stamp" \
  || [[ ! -f node_modules/workos-v11/package.json || ! -f node_modules/workos-v10/package.json ]] \
  || [[ ! -f node_modules/playwright-core/package.json ]]; then
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  cp package-lock.json "$stamp"
fi

# The example apps, each with its own lock file; same rule.
for lock in ../examples/*/package-lock.json; do
  [[ -f "$lock" ]] || continue
  dir="$(dirname "$lock")"
  example_stamp="$dir/node_modules/.compat-lock-stamp"
  if [[ ! -f "$example_stamp" ]] || ! cmp -s "$lock" "$example_stamp"; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    cp "$lock" "$example_stamp"
  fi
done

# Python venv: create once, then sync to requirements.txt.
if [[ ! -x .venv/bin/python ]]; then
  python3 -m venv .venv
fi
pystamp=".venv/.compat-requirements-stamp"
if [[ ! -f "$pystamp" ]] || ! cmp -s requirements.txt "$pystamp" \
  || ! .venv/bin/python -c 'import workos, pytest, bcrypt' 2>/dev/null; then
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
  cp requirements.txt "$pystamp"
fi
