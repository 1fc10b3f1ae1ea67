#!/usr/bin/env bash
# The README's run command on a fresh venv, as a newcomer runs it: `pip install -e .` and nothing
# else, then `kyodo-desk serve` on a free port; the page, /healthz and one question must answer.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q --disable-pip-version-check -e . >"$work/pip.log" 2>&1 \
  || { tail -20 "$work/pip.log"; echo "probe: pip install -e . failed"; exit 1; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cd "$work"  # no .env, no repository files: only what the package installed
env -i PATH="$PATH" HOME="$work" DATABASE_URL="sqlite:///$work/desk.db" \
  "$work/venv/bin/kyodo-desk" serve --host 127.0.0.1 --port "$port" >"$work/serve.log" 2>&1 &
server=$!

fail() { echo "probe: $1"; echo "--- serve log"; tail -30 "$work/serve.log"; exit 1; }
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || fail "kyodo-desk serve exited"
  sleep 1
done
curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null || fail "GET /healthz did not answer"
curl -fsS "http://127.0.0.1:$port/" | grep -q "<html" || fail "GET / did not serve the page"
answer=$(curl -fsS -H 'Content-Type: application/json' -d '{"text":"協働とは"}' "http://127.0.0.1:$port/api/chat") \
  || fail "POST /api/chat failed"
echo "$answer" | grep -q "協働" || fail "POST /api/chat gave no answer about 協働: $answer"
echo "probe: fresh venv, kyodo-desk serve answered /healthz, / and /api/chat"
