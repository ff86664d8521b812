#!/usr/bin/env bash
# Load benchmark of authgate against its own no-auth route, a FastAPI + PyJWT
# peer, and the argon2id floor of this machine. Every target is a ratio taken
# in the same run; bench/README.md says what each run measures and why.
#
#   bash bench/run.sh                              # 10 s runs, 3 repeats
#   BENCH_SECONDS=5 BENCH_REPEAT=2 bash bench/run.sh
#
# Environment (all optional):
#   BENCH_SECONDS        length of each wrk run (default 10)
#   BENCH_REPEAT         repeats of each run; the tables show medians (default 3)
#   BENCH_CONNECTIONS    wrk connections (default 64; always -t1, 127.0.0.1 only)
#   BENCH_COLD_SECONDS   length of the cold /me runs (default: BENCH_SECONDS, at most 5)
#   BENCH_COLD_TOKENS    distinct tokens for the cold /me runs (default: 1.5 times
#                        what the warm run served in BENCH_COLD_SECONDS, so no
#                        token is sent twice)
#   BENCH_PACED_RATE     req/s of the paced /me runs that give the p99 (default 1000)
#   BENCH_LOGIN_LOAD_CONNECTIONS  connections of the login load under which /me's
#                        p99 is measured (default 16; the hashing pool has nproc slots)
#   BENCH_AUTHGATE_BIN   use this authgate binary instead of building one
#
# Needs cargo, python3, root for `apt-get install wrk` when wrk is missing, and
# PyPI for the peer's venv (bench/.venv). Traffic goes to 127.0.0.1 only, every
# run is bounded in time, and every process started here is stopped on exit.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH_DIR")
S=${BENCH_SECONDS:-10}
REPEAT=${BENCH_REPEAT:-3}
CONNS=${BENCH_CONNECTIONS:-64}
COLD_S=${BENCH_COLD_SECONDS:-$((S < 5 ? S : 5))}
PACED_RATE=${BENCH_PACED_RATE:-1000}
PACED_CONNS=10
PACED_DELAY_MS=$((PACED_CONNS * 1000 / PACED_RATE))
LOGIN_LOAD_CONNS=${BENCH_LOGIN_LOAD_CONNECTIONS:-16}
CORES=$(nproc)
TICKS=$(getconf CLK_TCK)
COMMAND="$(env | grep -E '^BENCH_[A-Z_]+=' | sort | tr '\n' ' ' || true)bash bench/run.sh${*:+ $*}"

# The argon2id parameters of the login runs (OWASP, authgate's defaults) and
# of the /me instances (small: argon2 never runs on /me; small parameters
# only make minting many tokens quick).
OWASP_M=19456 OWASP_T=2 OWASP_P=1
SMALL_M=64 SMALL_T=1
PASSWORD='bench-Pa55word-correct-horse-battery'

# The servers get exactly the configuration below, whatever the caller's environment holds.
while read -r var; do unset "$var"; done < <(compgen -e | grep '^AUTHGATE_' || true)

WORK=$(mktemp -d /tmp/authgate-bench.XXXXXX)
OUT="$WORK/results"
mkdir -p "$OUT"
PIDS=()

log() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

forget_pid() { # drop a stopped process from PIDS
  local keep=() p
  for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}

stop_pid() {
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  forget_pid "$1"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_ready() { # port pid logfile
  local i
  for i in $(seq 1 600); do
    if curl -sf -o /dev/null "http://127.0.0.1:$1/healthz"; then return 0; fi
    if ! kill -0 "$2" 2>/dev/null; then
      tail -20 "$3" >&2
      die "the server on port $1 exited during start-up (log above)"
    fi
    sleep 0.1
  done
  tail -20 "$3" >&2
  die "the server on port $1 was not ready after 60 s"
}

# CPU time used so far by the given processes: "USER SYSTEM" in clock ticks.
cpu_ticks() {
  local user=0 sys=0 p u s
  for p in "$@"; do
    read -r u s < <(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12, $13}') || true
    user=$((user + ${u:-0})) sys=$((sys + ${s:-0}))
    u=0 s=0
  done
  echo "$user $sys"
}

# ---------------------------------------------------------------- set-up

if ! command -v wrk >/dev/null; then
  log "installing wrk"
  apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi
command -v wrk >/dev/null || die "wrk is missing and could not be installed"

VENV="$BENCH_DIR/.venv"
REQS="$BENCH_DIR/peer/requirements.txt"
if [[ ! -x $VENV/bin/python ]] || ! cmp -s "$REQS" "$VENV/.requirements.txt"; then
  log "creating the peer's venv ($VENV)"
  [[ -x $VENV/bin/python ]] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REQS"
  cp "$REQS" "$VENV/.requirements.txt"
fi

BIN="$WORK/authgate"
if [[ -n ${BENCH_AUTHGATE_BIN:-} ]]; then
  cp "$BENCH_AUTHGATE_BIN" "$BIN"
else
  log "building authgate (release)"
  built=$(cd "$REPO" && cargo build --release -p authgate --message-format=json-render-diagnostics |
    python3 -c 'import sys, json
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "authgate" and m.get("executable"):
        print(m["executable"])')
  [[ -n $built ]] || die "cargo did not report the authgate binary"
  # A copy, so that a concurrent rebuild cannot replace the binary under a run.
  cp "$built" "$BIN"
fi

log "building bench/argon2-floor (release)"
CARGO_TARGET_DIR="$BENCH_DIR/argon2-floor/target" \
  cargo build --release --quiet --manifest-path "$BENCH_DIR/argon2-floor/Cargo.toml"
FLOOR="$WORK/argon2-floor"
cp "$BENCH_DIR/argon2-floor/target/release/argon2-floor" "$FLOOR"

# ---------------------------------------------------------------- helpers

declare -A PORT PID DIR ENVS

# start_authgate NAME ALG MEMORY_KIB ITERATIONS: a fresh instance on a fresh data dir.
start_authgate() {
  local name=$1 alg=$2 m=$3 t=$4
  PORT[$name]=$(free_port)
  DIR[$name]="$WORK/$name"
  mkdir -p "${DIR[$name]}"
  ENVS[$name]="AUTHGATE_STORAGE__DATA_DIR=${DIR[$name]}
AUTHGATE_SERVER__BIND=127.0.0.1:${PORT[$name]}
AUTHGATE_TOKENS__ALGORITHM=$alg
AUTHGATE_PASSWORDS__ARGON2_MEMORY_KIB=$m
AUTHGATE_PASSWORDS__ARGON2_ITERATIONS=$t
AUTHGATE_PASSWORDS__ARGON2_PARALLELISM=1
AUTHGATE_RATE_LIMIT__LOGIN_PER_IP_PER_MINUTE=1000000000"
  if [[ $alg == HS* ]]; then
    ENVS[$name]+="
AUTHGATE_TOKENS__HMAC_SECRET=$(head -c 48 /dev/urandom | base64 -w0)"
  fi
  run_authgate "$name"
}

# run_authgate NAME: (re)starts an instance on its data dir. A restart empties
# its in-memory state (the verified-token cache above all), nothing on disk.
run_authgate() {
  local name=$1
  local -a vars
  mapfile -t vars <<<"${ENVS[$name]}"
  env "${vars[@]}" "$BIN" serve >>"${DIR[$name]}/server.log" 2>&1 &
  PID[$name]=$!
  PIDS+=("${PID[$name]}")
  wait_ready "${PORT[$name]}" "${PID[$name]}" "${DIR[$name]}/server.log"
}

restart_authgate() {
  stop_pid "${PID[$1]}"
  run_authgate "$1"
}

# register NAME EMAIL USERNAME
register() {
  local code
  code=$(curl -s -o "$WORK/register.json" -w '%{http_code}' \
    -H 'Content-Type: application/json' \
    -d "{\"email\":\"$2\",\"username\":\"$3\",\"password\":\"$PASSWORD\"}" \
    "http://127.0.0.1:${PORT[$1]}/auth/register")
  [[ $code == 201 ]] || { cat "$WORK/register.json" >&2; die "register on $1 answered $code"; }
}

login_body() { printf '{"email":"%s","password":"%s"}' "$1" "$PASSWORD"; }

# login NAME EMAIL: prints an access token
login() {
  curl -sf -H 'Content-Type: application/json' -d "$(login_body "$2")" \
    "http://127.0.0.1:${PORT[$1]}/auth/login" |
    python3 -c 'import sys, json; print(json.load(sys.stdin)["access_token"])'
}

rps_of() { sed -n 's/^Requests\/sec: *//p' "$1"; }

# cold_token_count WARM_OUTPUT: BENCH_COLD_TOKENS, or 1.5 times what the warm
# run's rate serves in a cold run, so that no token is sent twice.
cold_token_count() {
  if [[ -n ${BENCH_COLD_TOKENS:-} ]]; then
    echo "$BENCH_COLD_TOKENS"
  else
    python3 -c "import math, sys; print(max(5000, math.ceil(float(sys.argv[1]) * $COLD_S * 1.5)))" "$(rps_of "$1")"
  fi
}

# mint NAME EMAIL COUNT FILE: COUNT distinct access tokens, one login each,
# with wrk and mint.lua, stopped as soon as the file holds COUNT of them.
mint() {
  local name=$1 email=$2 count=$3 file=$4 wpid i lines=0
  : >"$file"
  BENCH_LOGIN_BODY=$(login_body "$email") BENCH_MINT_COUNT=$count BENCH_MINT_OUT=$file \
    wrk -t1 -c"$CONNS" -d600s --timeout 10s -s "$BENCH_DIR/lua/mint.lua" \
    "http://127.0.0.1:${PORT[$name]}" >"$WORK/mint-$name.txt" 2>&1 &
  wpid=$!
  PIDS+=("$wpid")
  for i in $(seq 1 6000); do
    lines=$(wc -l <"$file")
    ((lines >= count)) && break
    kill -0 "$wpid" 2>/dev/null || break
    sleep 0.1
  done
  kill -INT "$wpid" 2>/dev/null || true
  wait "$wpid" 2>/dev/null || true
  forget_pid "$wpid"
  ((lines >= count)) || { cat "$WORK/mint-$name.txt" >&2; die "minted only $lines of $count tokens on $name"; }
  [[ $(sort -u "$file" | wc -l) -ge $count ]] || die "the tokens minted on $name are not all distinct"
}

summary_line() {
  printf '   %-24s rep %s: %s\n' "$1" "$2" \
    "$( (grep -E 'Requests/sec|Non-2xx|Socket errors|verifies_per_sec' "$OUT/$1.$2.txt" || true) | tr -s ' ' | paste -sd, -)" >&2
}

# Runs one wrk (its arguments follow LABEL REP) with CPU_PIDS' CPU time
# recorded around it, into $OUT/LABEL.REP.txt.
measure() {
  local label=$1 rep=$2 u0 s0 u1 s1
  shift 2
  read -r u0 s0 < <(cpu_ticks $CPU_PIDS)
  wrk "$@" >"$OUT/$label.$rep.txt" 2>&1
  read -r u1 s1 < <(cpu_ticks $CPU_PIDS)
  echo "server_cpu_seconds=$(python3 -c "print(($u1 + $s1 - $u0 - $s0) / $TICKS, ($s1 - $s0) / $TICKS)" | tr ' ' ,)" \
    >>"$OUT/$label.$rep.txt"
  summary_line "$label" "$rep"
}

# wrk_get LABEL REP PORT PATH SECONDS [TOKENS_FILE]: GET at saturation, -c$CONNS.
wrk_get() {
  BENCH_PATH=$4 BENCH_TOKENS=${6:-} \
    measure "$1" "$2" -t1 -c"$CONNS" -d"$5s" --latency -s "$BENCH_DIR/lua/get.lua" "http://127.0.0.1:$3"
}

# wrk_paced LABEL REP PORT TOKENS_FILE: GET /me at about $PACED_RATE req/s.
wrk_paced() {
  BENCH_PATH=/me BENCH_TOKENS=$4 BENCH_DELAY_MS=$PACED_DELAY_MS \
    measure "$1" "$2" -t1 -c"$PACED_CONNS" -d"${S}s" --latency -s "$BENCH_DIR/lua/get.lua" "http://127.0.0.1:$3"
}

# ---------------------------------------------------------------- /me, EdDSA and HS256

# me_block NAME ALG LABEL_PREFIX WITH_HEALTHZ
me_block() {
  local name=$1 alg=$2 prefix=$3 healthz=$4 rep count
  start_authgate "$name" "$alg" "$SMALL_M" "$SMALL_T"
  register "$name" bench@example.com bench
  login "$name" bench@example.com >"$WORK/$name-one.txt"
  for rep in $(seq 1 "$REPEAT"); do
    CPU_PIDS=${PID[$name]}
    if [[ $healthz == yes ]]; then
      wrk_get healthz "$rep" "${PORT[$name]}" /healthz "$S"
    fi
    wrk_get "${prefix}_warm" "$rep" "${PORT[$name]}" /me "$S" "$WORK/$name-one.txt"
    if ((rep == 1)); then
      count=$(cold_token_count "$OUT/${prefix}_warm.1.txt")
      echo "$count" >"$OUT/${prefix}_cold.tokens"
      log "minting $count distinct $alg tokens for the cold runs (one login each; set-up, not measured)"
      mint "$name" bench@example.com "$count" "$WORK/$name-cold.txt"
    fi
    restart_authgate "$name" # an empty verified-token cache
    CPU_PIDS=${PID[$name]}
    wrk_get "${prefix}_cold" "$rep" "${PORT[$name]}" /me "$COLD_S" "$WORK/$name-cold.txt"
  done
  cp "${DIR[$name]}/server.log" "$OUT/server-$name.log"
  stop_pid "${PID[$name]}"
}

log "authgate EdDSA (argon2 m=$SMALL_M t=$SMALL_T; /me never hashes): /healthz, /me warm, /me cold"
me_block ed EdDSA me_eddsa yes
log "authgate HS256: /me warm, /me cold"
me_block hs HS256 me_hs256 no

# ---------------------------------------------------------------- the peer

log "FastAPI + PyJWT peer (uvicorn, 2 workers): /healthz, /me EdDSA, /me HS256"
PEER_PORT=$(free_port)
"$VENV/bin/python" "$BENCH_DIR/peer/app.py" --port "$PEER_PORT" --workers 2 >"$WORK/peer.log" 2>&1 &
PEER_PID=$!
PIDS+=("$PEER_PID")
wait_ready "$PEER_PORT" "$PEER_PID" "$WORK/peer.log"
for alg in EdDSA HS256; do
  curl -sf "http://127.0.0.1:$PEER_PORT/token?alg=$alg&user=0" |
    python3 -c 'import sys, json; print(json.load(sys.stdin)["access_token"])' >"$WORK/peer-$alg.txt"
  # Both workers must accept it (they share the launcher's keys).
  for i in 1 2 3 4; do
    [[ $(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(cat "$WORK/peer-$alg.txt")" \
      "http://127.0.0.1:$PEER_PORT/me") == 200 ]] || die "the peer refused its own $alg token"
  done
done
CPU_PIDS="$PEER_PID $(pgrep -P "$PEER_PID" | tr '\n' ' ' || true)" # the master and its workers
for rep in $(seq 1 "$REPEAT"); do
  wrk_get peer_healthz "$rep" "$PEER_PORT" /healthz "$S"
  wrk_get peer_me_eddsa "$rep" "$PEER_PORT" /me "$S" "$WORK/peer-EdDSA.txt"
  wrk_get peer_me_hs256 "$rep" "$PEER_PORT" /me "$S" "$WORK/peer-HS256.txt"
done
stop_pid "$PEER_PID"

# ---------------------------------------------------------------- logins, OWASP argon2

log "authgate EdDSA, OWASP argon2 (m=$OWASP_M t=$OWASP_T p=$OWASP_P): logins, argon2 floor, /me p99 under login load"
start_authgate owasp EdDSA "$OWASP_M" "$OWASP_T"
register owasp bench@example.com bench
login owasp bench@example.com >"$WORK/owasp-one.txt"
LOGIN_BODY=$(login_body bench@example.com)
for rep in $(seq 1 "$REPEAT"); do
  # Each run that sends logins starts on a fresh process: the end of a wrk
  # run drops in-flight logins, which can leave the server's SQLite pool
  # broken (see bench/README.md); errors within a run are still counted.
  restart_authgate owasp
  CPU_PIDS=${PID[owasp]}
  BENCH_LOGIN_BODY=$LOGIN_BODY measure login "$rep" -t1 -c"$CONNS" -d"${S}s" --timeout 10s --latency \
    -s "$BENCH_DIR/lua/login.lua" "http://127.0.0.1:${PORT[owasp]}"

  TIMEFORMAT='cpu_user_seconds=%3U cpu_system_seconds=%3S'
  { time "$FLOOR" --memory-kib "$OWASP_M" --iterations "$OWASP_T" --parallelism "$OWASP_P" \
    --threads "$CORES" --seconds "$S" >"$OUT/argon2_floor.$rep.txt"; } 2>>"$OUT/argon2_floor.$rep.txt"
  summary_line argon2_floor "$rep"

  wrk_paced me_paced "$rep" "${PORT[owasp]}" "$WORK/owasp-one.txt"

  # /me while a second wrk keeps the hashing pool full of logins: first
  # paced (the p99 target), then at saturation.
  restart_authgate owasp
  CPU_PIDS=${PID[owasp]}
  BENCH_LOGIN_BODY=$LOGIN_BODY \
    wrk -t1 -c"$LOGIN_LOAD_CONNS" -d$((2 * S + 3))s --timeout 10s --latency -s "$BENCH_DIR/lua/login.lua" \
    "http://127.0.0.1:${PORT[owasp]}" >"$OUT/login_under_me.$rep.txt" 2>&1 &
  lpid=$!
  PIDS+=("$lpid")
  sleep 1
  wrk_paced me_paced_during_logins "$rep" "${PORT[owasp]}" "$WORK/owasp-one.txt"
  wrk_get me_during_logins "$rep" "${PORT[owasp]}" /me "$S" "$WORK/owasp-one.txt"
  wait "$lpid" || true
  forget_pid "$lpid"
  summary_line login_under_me "$rep"
done
cp "${DIR[owasp]}/server.log" "$OUT/server-owasp.log"
stop_pid "${PID[owasp]}"

# ---------------------------------------------------------------- report

log "results"
TABLE=$(python3 "$BENCH_DIR/report.py" "$OUT" --connections "$CONNS" --cores "$CORES" \
  --paced-rate "$PACED_RATE" --login-load-connections "$LOGIN_LOAD_CONNS")
printf '%s\n' "$TABLE"

# Only this script's section of RESULTS.md is replaced: the scale-out
# section (bench/scaleout.sh) and anything else outside the markers stays.
SECTION=$(
  echo "<!-- run:begin (written by bench/run.sh) -->"
  echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "- command: \`$COMMAND\`"
  echo "- machine: nproc = $CORES, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(uname -sr); load average before the report: $(cut -d' ' -f1-3 /proc/loadavg)"
  dirty=$(cd "$REPO" && git status --porcelain -- crates Cargo.toml Cargo.lock 2>/dev/null | head -1 || true)
  echo "- authgate: commit $(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo '?')${dirty:+ (work tree with uncommitted changes)}${BENCH_AUTHGATE_BIN:+; binary $BENCH_AUTHGATE_BIN}"
  echo "- wrk -t1 -c$CONNS --latency on 127.0.0.1, ${S} s runs (cold /me runs ${COLD_S} s), $REPEAT repeats, medians; wrk shares the $CORES cores with the server"
  echo
  echo "$TABLE"
  echo "<!-- run:end -->"
)
python3 - "$BENCH_DIR/RESULTS.md" "$SECTION" <<'EOF'
import os, re, sys
path, section = sys.argv[1], sys.argv[2]
title = "# authgate load benchmark: results\n\nWritten by `bench/run.sh` and `bench/scaleout.sh` (see bench/README.md); each replaces only its own section.\n"
text = open(path).read() if os.path.exists(path) else title
ours = re.compile(r"<!-- run:begin.*?<!-- run:end -->", re.S)
if ours.search(text):
    text = ours.sub(lambda _: section, text)
else:
    # A file from before the markers: its run text goes, the scale-out section stays.
    scaleout = re.search(r"<!-- scaleout:begin.*?<!-- scaleout:end -->", text, re.S)
    text = title + "\n" + section + "\n" + ("\n" + scaleout.group(0) + "\n" if scaleout else "")
open(path, "w").write(text)
EOF
log "wrote bench/RESULTS.md"
