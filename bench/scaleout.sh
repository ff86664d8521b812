#!/usr/bin/env bash
# Scale-out load run (issue 8): two `authgate serve` on different ports
# sharing one PostgreSQL database and one Redis, against one instance on
# SQLite (the embedded default) and one instance on PostgreSQL + Redis, with
# the same traffic: GET /me with 200 access tokens and, every 10th request, a
# refresh (each refresh token used once; its successor goes back in the pool).
# Not a timed test: figures to compare, on this machine, in this session.
#
#   bash bench/scaleout.sh                       # 10 s runs, 3 repeats (about 3 min)
#   BENCH_SECONDS=20 bash bench/scaleout.sh      # each run at most 20 s
#
# Environment (all optional):
#   BENCH_SECONDS          length of each run, at most 20 (default 10)
#   BENCH_REPEAT           repeats of each configuration; medians shown (default 3)
#   BENCH_CONNECTIONS      wrk connections in all, split over two wrk -t1 (default 64)
#   BENCH_POSTGRES_URL     server URL without database (default postgres://postgres@127.0.0.1:5432)
#   BENCH_REDIS_URL        (default redis://127.0.0.1:6379)
#   BENCH_AUTHGATE_BIN     use this authgate binary instead of building one
#
# Needs cargo, python3, psql, a PostgreSQL server and a Redis server
# reachable on 127.0.0.1 (`.ci/run` starts both), and wrk: `apt-get install
# wrk` (done here as root when it is missing). Traffic stays on 127.0.0.1;
# every run is bounded in time; every process started here is stopped on exit
# and the database it created is dropped. It rewrites the section between
# the scale-out markers of bench/RESULTS.md.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH_DIR")
S=${BENCH_SECONDS:-10}
((S <= 20)) || { echo "bench: BENCH_SECONDS is at most 20" >&2; exit 2; }
REPEAT=${BENCH_REPEAT:-3}
CONNS=${BENCH_CONNECTIONS:-64}
HALF=$((CONNS / 2))
PG=${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}
REDIS=${BENCH_REDIS_URL:-redis://127.0.0.1:6379}
SESSIONS=200 # logins per repeat: 200 access tokens, 100 refresh tokens per wrk
PASSWORD='bench-Pa55word-correct-horse-battery'
COMMAND="$(env | grep -E '^BENCH_[A-Z_]+=' | sort | tr '\n' ' ' || true)bash bench/scaleout.sh"

while read -r var; do unset "$var"; done < <(compgen -e | grep '^AUTHGATE_' || true)

WORK=$(mktemp -d /tmp/authgate-scaleout.XXXXXX)
OUT="$WORK/results"
mkdir -p "$OUT"
PIDS=()
DB="authgate_bench_$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
PREFIX="authgate-bench-$DB:"
MASTER_KEY=$(head -c 32 /dev/urandom | base64 -w0)

log() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  psql "$PG/postgres" -qtA -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# ---------------------------------------------------------------- set-up

if ! command -v wrk >/dev/null; then
  log "installing wrk"
  apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi
command -v wrk >/dev/null || die "wrk is missing and could not be installed (apt-get install wrk)"
command -v psql >/dev/null || die "psql is missing (apt-get install postgresql-client)"
psql "$PG/postgres" -qtA -c 'SELECT 1' >/dev/null || die "no PostgreSQL at $PG"
python3 - "$REDIS" <<'EOF' || die "no Redis at $REDIS"
import socket, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
s = socket.create_connection((u.hostname or "127.0.0.1", u.port or 6379), timeout=2)
s.sendall(b"PING\r\n")
assert s.recv(16).startswith(b"+PONG")
EOF

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
  cp "$built" "$BIN"
fi

# start NAME STORE: an instance; STORE is sqlite (its own data dir) or shared
# (the bench database, Redis, one master key). Sets PORT_<NAME>.
declare -A PORT PID
start() {
  local name=$1 store=$2 dir="$WORK/$1" i
  mkdir -p "$dir"
  PORT[$name]=$(free_port)
  local -a vars=(
    "AUTHGATE_STORAGE__DATA_DIR=$dir"
    "AUTHGATE_SERVER__BIND=127.0.0.1:${PORT[$name]}"
    "AUTHGATE_PASSWORDS__ARGON2_MEMORY_KIB=64"
    "AUTHGATE_PASSWORDS__ARGON2_ITERATIONS=1"
    "AUTHGATE_RATE_LIMIT__LOGIN_PER_IP_PER_MINUTE=1000000000"
    "AUTHGATE_AUDIT__SINKS=[\"database\"]"
  )
  if [[ $store == shared ]]; then
    vars+=(
      "AUTHGATE_STORAGE__DATABASE_URL=$PG/$DB"
      "AUTHGATE_STORAGE__REDIS_URL=$REDIS"
      "AUTHGATE_STORAGE__REDIS_PREFIX=$PREFIX"
      "AUTHGATE_STORAGE__MASTER_KEY=$MASTER_KEY"
    )
  fi
  env "${vars[@]}" "$BIN" serve >>"$dir/server.log" 2>&1 &
  PID[$name]=$!
  PIDS+=("${PID[$name]}")
  for i in $(seq 1 300); do
    curl -sf -o /dev/null "http://127.0.0.1:${PORT[$name]}/healthz" && return 0
    kill -0 "${PID[$name]}" 2>/dev/null || { tail -20 "$dir/server.log" >&2; die "$name exited during start-up"; }
    sleep 0.1
  done
  die "$name was not ready after 30 s"
}

stop() {
  kill -TERM "${PID[$1]}" 2>/dev/null || true
  wait "${PID[$1]}" 2>/dev/null || true
}

# sessions PORT FILE_PREFIX: $SESSIONS logins of one user; access tokens to
# FILE_PREFIX.access, refresh tokens split in two pools FILE_PREFIX.refresh.{1,2}.
sessions() {
  python3 - "$1" "$2" "$SESSIONS" "$PASSWORD" <<'EOF'
import json, sys, urllib.request
port, prefix, count, password = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
base = f"http://127.0.0.1:{port}"
def post(path, body):
    req = urllib.request.Request(base + path, json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
    try:
        return json.load(urllib.request.urlopen(req, timeout=10))
    except urllib.error.HTTPError as e:
        if e.code == 409:
            return None
        raise
post("/auth/register", {"email": "bench@example.com", "password": password})
access, refresh = [], []
for _ in range(count):
    t = post("/auth/login", {"email": "bench@example.com", "password": password})
    access.append(t["access_token"]); refresh.append(t["refresh_token"])
open(prefix + ".access", "w").write("\n".join(access) + "\n")
open(prefix + ".refresh.1", "w").write("\n".join(refresh[0::2]) + "\n")
open(prefix + ".refresh.2", "w").write("\n".join(refresh[1::2]) + "\n")
EOF
}

# load LABEL REP PORT1 PORT2: two wrk -t1 at once, one per port (the same
# port twice for a single instance), $HALF connections each, $S seconds.
load() {
  local label=$1 rep=$2 tokens="$WORK/tokens.$1.$2" w1 w2
  sessions "$3" "$tokens"
  BENCH_TOKENS=$tokens.access BENCH_REFRESH_TOKENS=$tokens.refresh.1 \
    wrk -t1 -c"$HALF" -d"${S}s" --latency -s "$BENCH_DIR/lua/mixed.lua" "http://127.0.0.1:$3" \
    >"$OUT/$label.$rep.1.txt" 2>&1 &
  w1=$!
  BENCH_TOKENS=$tokens.access BENCH_REFRESH_TOKENS=$tokens.refresh.2 \
    wrk -t1 -c"$HALF" -d"${S}s" --latency -s "$BENCH_DIR/lua/mixed.lua" "http://127.0.0.1:$4" \
    >"$OUT/$label.$rep.2.txt" 2>&1 &
  w2=$!
  PIDS+=("$w1" "$w2")
  wait "$w1" "$w2"
  printf '   %-14s rep %s: %s | %s\n' "$label" "$rep" \
    "$(grep -E 'Requests/sec' "$OUT/$label.$rep.1.txt" | tr -s ' ')" \
    "$(grep -E 'Requests/sec' "$OUT/$label.$rep.2.txt" | tr -s ' ')" >&2
}

# ---------------------------------------------------------------- runs

log "creating database $DB"
psql "$PG/postgres" -qtA -c "CREATE DATABASE $DB" >/dev/null

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for rep in $(seq 1 "$REPEAT"); do
  log "repeat $rep of $REPEAT"
  start sqlite sqlite
  load sqlite_1 "$rep" "${PORT[sqlite]}" "${PORT[sqlite]}"
  stop sqlite
  rm -rf "$WORK/sqlite"

  start pg_a shared
  load shared_1 "$rep" "${PORT[pg_a]}" "${PORT[pg_a]}"
  start pg_b shared
  load shared_2 "$rep" "${PORT[pg_a]}" "${PORT[pg_b]}"
  stop pg_a
  stop pg_b
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- report

TABLE=$(python3 - "$OUT" "$REPEAT" "$S" <<'EOF'
import re, statistics, sys
out, repeat, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def parse(path):
    text = open(path).read()
    def ms(label):
        m = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
        if not m: return float("nan")
        return float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
    num = lambda pat: int(m.group(1)) if (m := re.search(pat, text, re.M)) else 0
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    return {
        "rps": float(re.search(r"^Requests/sec:\s*([\d.]+)", text, re.M).group(1)),
        "p50": ms("50%"), "p99": ms("99%"),
        "non2xx": num(r"Non-2xx or 3xx responses: (\d+)"),
        "sock": sum(map(int, sock.groups())) if sock else 0,
        "refresh": num(r"^refreshes_ok=(\d+)"), "errors": num(r"^error_answers=(\d+)"),
    }
rows = {
    "sqlite_1": "1 instance, SQLite (embedded default)",
    "shared_1": "1 instance, PostgreSQL + Redis",
    "shared_2": "2 instances, PostgreSQL + Redis",
}
median = {}
lines = ["| configuration | req/s, median (each repeat) | refreshes/s | p50 ms | p99 ms (worst wrk) | non-2xx | socket errors |",
         "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
total_errors = 0
for key, name in rows.items():
    reps = []
    for r in range(1, repeat + 1):
        a, b = parse(f"{out}/{key}.{r}.1.txt"), parse(f"{out}/{key}.{r}.2.txt")
        reps.append({"rps": a["rps"] + b["rps"], "refresh": a["refresh"] + b["refresh"],
                     "p50": max(a["p50"], b["p50"]), "p99": max(a["p99"], b["p99"]),
                     "bad": a["non2xx"] + b["non2xx"] + a["errors"] + b["errors"],
                     "sock": a["sock"] + b["sock"]})
    med = statistics.median(x["rps"] for x in reps)
    median[key] = med
    each = " / ".join(f"{x['rps']:,.0f}" for x in reps)
    bad, sock = sum(x["bad"] for x in reps), sum(x["sock"] for x in reps)
    total_errors += bad + sock
    lines.append(f"| {name} | {med:,.0f} ({each}) | {statistics.median(x['refresh'] for x in reps) / seconds:,.0f} | "
                 f"{statistics.median(x['p50'] for x in reps):.2f} | {statistics.median(x['p99'] for x in reps):.2f} | {bad} | {sock} |")
lines.append("")
lines.append("| ratio | value |")
lines.append("| --- | ---: |")
lines.append(f"| 2 instances (PostgreSQL + Redis) ÷ 1 instance SQLite | {median['shared_2'] / median['sqlite_1']:.2f} |")
lines.append(f"| 2 instances ÷ 1 instance, both PostgreSQL + Redis | {median['shared_2'] / median['shared_1']:.2f} |")
lines.append(f"| 1 instance PostgreSQL + Redis ÷ 1 instance SQLite | {median['shared_1'] / median['sqlite_1']:.2f} |")
lines.append("")
lines.append(f"Errors (non-2xx, error bodies, socket errors) over all runs: {total_errors}.")
print("\n".join(lines))
EOF
)
printf '%s\n' "$TABLE"

SECTION="<!-- scaleout:begin (written by bench/scaleout.sh) -->
## Scale-out: two instances on PostgreSQL + Redis vs one on SQLite

- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')
- command: \`$COMMAND\`
- machine: nproc = $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(uname -sr); load average before / after: $LOAD_BEFORE / $LOAD_AFTER
- authgate: commit $(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo '?')
- traffic: two \`wrk -t1 -c$HALF\` at once for ${S} s (bench/lua/mixed.lua): GET /me over $SESSIONS access tokens, every 10th request a refresh; a single instance gets both wrks, two instances one each. Everything (servers, wrk, PostgreSQL, Redis) shares the same $(nproc) cores.

$TABLE
<!-- scaleout:end -->"
python3 - "$BENCH_DIR/RESULTS.md" "$SECTION" <<'EOF'
import re, sys
path, section = sys.argv[1], sys.argv[2]
text = open(path).read()
pattern = re.compile(r"<!-- scaleout:begin.*?<!-- scaleout:end -->", re.S)
text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section + "\n"
open(path, "w").write(text)
EOF
log "wrote the scale-out section of bench/RESULTS.md"
