#!/usr/bin/env bash
# Load run of examples/resource-server: the same tiny handler public
# (/bench/open) and behind the guard with a valid EdDSA token
# (/bench/guarded), in the same run, against a real authgate. The figure
# that matters is the ratio guarded / open (target: at least 0.80).
#
#   bash examples/resource-server/load.sh                  # 10 s runs, 3 repeats
#   LOAD_SECONDS=5 LOAD_REPEAT=2 bash examples/resource-server/load.sh
#
# Environment (all optional):
#   LOAD_SECONDS       length of each wrk run, at most 20 (default 10)
#   LOAD_REPEAT        how many times each pair of runs is repeated (default 3)
#   LOAD_CONNECTIONS   wrk connections (default 64; always -t1, 127.0.0.1 only)
#
# Needs cargo, curl, python3, and wrk (installed with apt-get when missing,
# which needs root). Traffic goes to 127.0.0.1 only, every run is bounded in
# time, and the processes started here are stopped on exit.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
S=${LOAD_SECONDS:-10}
REPEAT=${LOAD_REPEAT:-3}
CONNS=${LOAD_CONNECTIONS:-64}
PASSWORD='load-Pa55word-correct-horse-battery'

die() { printf 'load: %s\n' "$*" >&2; exit 1; }
log() { printf '\n== %s\n' "$*" >&2; }

((S >= 1 && S <= 20)) || die "LOAD_SECONDS must be between 1 and 20"

# authgate gets exactly the configuration below, whatever the caller's environment holds.
while read -r var; do unset "$var"; done < <(compgen -e | grep '^AUTHGATE_' || true)

WORK=$(mktemp -d /tmp/authgate-load.XXXXXX)
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_ready() { # url pid logfile
  local i
  for i in $(seq 1 300); do
    if curl -sf -o /dev/null "$1"; then return 0; fi
    kill -0 "$2" 2>/dev/null || { tail -20 "$3" >&2; die "$1: the process exited during start-up"; }
    sleep 0.1
  done
  tail -20 "$3" >&2
  die "$1 was not ready after 30 s"
}

if ! command -v wrk >/dev/null; then
  log "installing wrk"
  apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi
command -v wrk >/dev/null || die "wrk is missing and could not be installed"

log "building authgate and resource-server (release)"
TARGET=${CARGO_TARGET_DIR:-$REPO/target}
(cd "$REPO" && cargo build --release --quiet -p authgate -p resource-server)
# Copies, so that a concurrent rebuild cannot replace a binary under a run.
cp "$TARGET/release/authgate" "$TARGET/release/resource-server" "$WORK/"

AG_PORT=$(free_port)
AG="http://127.0.0.1:$AG_PORT"
env AUTHGATE_STORAGE__DATA_DIR="$WORK/authgate-data" \
  AUTHGATE_SERVER__BIND="127.0.0.1:$AG_PORT" \
  AUTHGATE_SERVER__PUBLIC_URL="$AG" \
  AUTHGATE_TOKENS__ALGORITHM=EdDSA \
  AUTHGATE_TOKENS__ACCESS_TTL=1h \
  AUTHGATE_PASSWORDS__ARGON2_MEMORY_KIB=64 \
  AUTHGATE_PASSWORDS__ARGON2_ITERATIONS=1 \
  "$WORK/authgate" serve >"$WORK/authgate.log" 2>&1 &
PIDS+=($!)
wait_ready "$AG/healthz" "$!" "$WORK/authgate.log"

curl -sf -o /dev/null -H 'content-type: application/json' \
  -d "{\"email\":\"load@example.com\",\"password\":\"$PASSWORD\"}" "$AG/auth/register" ||
  die "registration failed"
TOKEN=$(curl -sf -H 'content-type: application/json' \
  -d "{\"email\":\"load@example.com\",\"password\":\"$PASSWORD\"}" "$AG/auth/login" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])') || die "login failed"

RS_PORT=$(free_port)
RS="http://127.0.0.1:$RS_PORT"
RUST_LOG=warn "$WORK/resource-server" --authgate "$AG" --bind "127.0.0.1:$RS_PORT" \
  >"$WORK/resource-server.log" 2>&1 &
PIDS+=($!)
wait_ready "$RS/healthz" "$!" "$WORK/resource-server.log"
# The first guarded request fetches the JWKS (if the background task has
# not yet) and puts the token in the verified-token cache.
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$RS/bench/guarded")
[[ $code == 200 ]] || die "/bench/guarded answered $code with a valid token"
code=$(curl -s -o /dev/null -w '%{http_code}' "$RS/bench/guarded")
[[ $code == 401 ]] || die "/bench/guarded answered $code without a token"

rps() { # path [header]: requests per second of one wrk run
  local out
  if [[ $# -gt 1 ]]; then
    out=$(wrk -t1 -c"$CONNS" -d"${S}s" -H "$2" "$RS$1")
  else
    out=$(wrk -t1 -c"$CONNS" -d"${S}s" "$RS$1")
  fi
  grep -q 'Non-2xx' <<<"$out" && die "$1: some responses were not 2xx"$'\n'"$out"
  awk '/^Requests\/sec:/ {print $2}' <<<"$out"
}

log "wrk -t1 -c$CONNS, ${S} s per run, $REPEAT repeats, on $(nproc) cores"
printf '%-4s %14s %14s %8s\n' run 'open req/s' 'guarded req/s' ratio
RATIOS=()
for i in $(seq 1 "$REPEAT"); do
  # Alternate the order so drift over the run favours neither route.
  if ((i % 2)); then
    open=$(rps /bench/open)
    guarded=$(rps /bench/guarded "Authorization: Bearer $TOKEN")
  else
    guarded=$(rps /bench/guarded "Authorization: Bearer $TOKEN")
    open=$(rps /bench/open)
  fi
  ratio=$(python3 -c "print(f'{$guarded / $open:.3f}')")
  RATIOS+=("$ratio")
  printf '%-4s %14s %14s %8s\n' "$i" "$open" "$guarded" "$ratio"
done
median=$(printf '%s\n' "${RATIOS[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}')
printf 'median ratio guarded/open: %s (target >= 0.80)\n' "$median"
python3 -c "import sys; sys.exit(0 if $median >= 0.80 else 1)" || die "the guarded route is under 80% of the open one"
