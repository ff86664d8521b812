#!/usr/bin/env bash
# Load run of the hosted pages: server CPU per request of GET /login
# (logged out) and of a logged-in GET /account against GET /me (Bearer),
# side by side on one server in one run, repeated; and the p99 of
# /account at a fixed 1000 req/s, latency counted from when each request
# was due (bench/paced, built here: wrk cannot pace). Writes its own
# section of bench/RESULTS.md. bench/README.md ("Pages") says what each run is.
#
#   bash bench/pages.sh                            # 10 s runs, 3 repeats
#   BENCH_SECONDS=5 BENCH_REPEAT=2 bash bench/pages.sh
#
# Environment (all optional):
#   BENCH_SECONDS       length of each wrk run (default 10)
#   BENCH_REPEAT        repeats; the table shows medians (default 3)
#   BENCH_CONNECTIONS   wrk connections of the saturating runs (default 64)
#   BENCH_PACED_RATE    req/s of the paced /account run (default 1000)
#   BENCH_PACED_CONNECTIONS  most requests in flight in the paced run (default 32)
#   BENCH_AUTHGATE_BIN  use this authgate binary instead of building one
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH_DIR")
S=${BENCH_SECONDS:-10}
REPEAT=${BENCH_REPEAT:-3}
CONNS=${BENCH_CONNECTIONS:-64}
PACED_RATE=${BENCH_PACED_RATE:-1000}
PACED_CONNS=${BENCH_PACED_CONNECTIONS:-32}
TICKS=$(getconf CLK_TCK)
PASSWORD='bench-Pa55word-correct-horse-battery'
COMMAND="$(env | grep -E '^BENCH_[A-Z_]+=' | sort | tr '\n' ' ' || true)bash bench/pages.sh"

while read -r var; do unset "$var"; done < <(compgen -e | grep '^AUTHGATE_' || true)

WORK=$(mktemp -d /tmp/authgate-pages-bench.XXXXXX)
SERVER_PID=""
cleanup() {
  if [[ -n $SERVER_PID ]]; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

command -v wrk >/dev/null || die "wrk is missing (apt-get install -y wrk)"

# The paced load generator: bench/paced, its own small Cargo project.
log "building bench/paced (release)"
CARGO_TARGET_DIR="$BENCH_DIR/paced/target" \
  cargo build --release --quiet --manifest-path "$BENCH_DIR/paced/Cargo.toml"
PACED="$WORK/paced"
cp "$BENCH_DIR/paced/target/release/paced" "$PACED"

BIN="$WORK/authgate"
BINARY_NOTE="built here in release mode"
if [[ -n ${BENCH_AUTHGATE_BIN:-} ]]; then
  cp "$BENCH_AUTHGATE_BIN" "$BIN"
  BINARY_NOTE="the binary $BENCH_AUTHGATE_BIN"
else
  log "building authgate (release)"
  (cd "$REPO" && cargo build --release -p authgate --bin authgate)
  cp "${CARGO_TARGET_DIR:-$REPO/target}/release/authgate" "$BIN"
fi

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$PORT"
mkdir -p "$WORK/data"
AUTHGATE_SERVER__BIND="127.0.0.1:$PORT" \
AUTHGATE_SERVER__PUBLIC_URL="$URL" \
AUTHGATE_STORAGE__DATA_DIR="$WORK/data" \
AUTHGATE_PASSWORDS__ARGON2_MEMORY_KIB=64 \
AUTHGATE_PASSWORDS__ARGON2_ITERATIONS=1 \
AUTHGATE_RATE_LIMIT__LOGIN_PER_IP_PER_MINUTE=100000 \
RUST_LOG=warn \
  "$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 600); do
  curl -sf -o /dev/null "$URL/healthz" && break
  kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$WORK/server.log" >&2; die "the server exited"; }
  sleep 0.1
done

# A user, an API login (the Bearer token of /me) and a browser login (the
# session cookie of /account), as a browser makes it: form cookie, token, post.
curl -sf -o /dev/null -H 'content-type: application/json' \
  -d "{\"email\":\"bench@example.com\",\"password\":\"$PASSWORD\"}" "$URL/auth/register"
TOKEN=$(curl -sf -H 'content-type: application/json' \
  -d "{\"email\":\"bench@example.com\",\"password\":\"$PASSWORD\"}" "$URL/auth/login" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
JAR="$WORK/cookies"
CSRF=$(curl -sf -c "$JAR" "$URL/login" | python3 -c 'import re,sys; print(re.search(r"name=\"csrf\" value=\"([^\"]+)\"", sys.stdin.read()).group(1))')
curl -sf -o /dev/null -b "$JAR" -c "$JAR" -H "Origin: $URL" \
  --data-urlencode "csrf=$CSRF" --data-urlencode "identifier=bench@example.com" \
  --data-urlencode "password=$PASSWORD" "$URL/login"
SESSION=$(awk '$6 == "authgate_session" {print $7}' "$JAR")
[[ -n $SESSION ]] || die "the browser login set no session cookie"
COOKIE="authgate_session=$SESSION"
[[ $(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $COOKIE" "$URL/account") == 200 ]] ||
  die "GET /account with the session cookie is not 200"

cpu_ticks() { sed 's/^.*) //' "/proc/$SERVER_PID/stat" | awk '{print $12 + $13}'; }

# paced_run LABEL: GET /account at $PACED_RATE req/s for $S s; appends a JSON line to $WORK/runs.
paced_run() {
  local label=$1 before after out
  before=$(cpu_ticks)
  out=$("$PACED" "$URL/account" --rate "$PACED_RATE" --seconds "$S" \
    --connections "$PACED_CONNS" --header "Cookie: $COOKIE")
  after=$(cpu_ticks)
  python3 - "$label" "$((after - before))" "$TICKS" "$out" "$(cut -d' ' -f1 /proc/loadavg)" >>"$WORK/runs" <<'PY'
import json, sys
label, ticks, hz, out, load = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), json.loads(sys.argv[4]), sys.argv[5]
print(json.dumps({
    "label": label, "requests": out["completed"], "rps": out["achieved_rps"],
    "p50": out["p50"], "p99": out["p99"], "p999": out["p999"], "max": out["max"],
    "cpu_us": ticks * 1e6 / hz / max(out["completed"], 1),
    "non2xx": out["non2xx"], "errors": str(out["errors"]), "load": float(load),
}))
PY
  tail -1 "$WORK/runs" >&2
}

# run LABEL PATH CONNS: one wrk run; appends a JSON line to $WORK/runs.
run() {
  local label=$1 path=$2 conns=$3 before after out cookie="" token=""
  if [[ $path == /account ]]; then cookie=$COOKIE; fi
  if [[ $path == /me ]]; then token=$TOKEN; fi
  before=$(cpu_ticks)
  out=$(BENCH_PATH=$path BENCH_DELAY_MS= BENCH_COOKIE=$cookie BENCH_TOKEN=$token \
    wrk -t1 -c"$conns" -d"${S}s" --latency -s "$BENCH_DIR/lua/page.lua" "$URL")
  after=$(cpu_ticks)
  python3 - "$label" "$((after - before))" "$TICKS" "$(cut -d' ' -f1 /proc/loadavg)" >>"$WORK/runs" <<PY
import json, re, sys
label, ticks, hz, load = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
out = """$out"""
def ms(text):
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
requests = int(re.search(r"(\d+) requests in", out).group(1))
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
errors = re.search(r"Socket errors: (.*)", out)
print(json.dumps({
    "label": label, "requests": requests,
    "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
    "p50": ms(re.search(r"50%\s+(\S+)", out).group(1)),
    "p99": ms(re.search(r"99%\s+(\S+)", out).group(1)),
    "cpu_us": ticks * 1e6 / hz / max(requests, 1),
    "non2xx": int(non2xx.group(1)) if non2xx else 0,
    "errors": errors.group(1).strip() if errors else "0",
    "load": load,
}))
PY
  tail -1 "$WORK/runs" >&2
}

for rep in $(seq 1 "$REPEAT"); do
  log "repeat $rep of $REPEAT"
  run me /me "$CONNS"
  run login /login "$CONNS"
  run account /account "$CONNS"
  paced_run account_paced
done
[[ $(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $COOKIE" "$URL/account") == 200 ]] ||
  die "the session ended during the run: /account figures would be of redirects"

python3 - "$WORK/runs" "$REPO/bench/RESULTS.md" "$COMMAND" "$S" "$REPEAT" "$CONNS" "$PACED_RATE" \
  "$(cd "$REPO" && git rev-parse --short HEAD)" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" \
  "$BINARY_NOTE" <<'PY'
import json, statistics, sys, time
runs_file, results, command, secs, repeat, conns, rate, commit, cores, load, binary = sys.argv[1:]
runs = [json.loads(line) for line in open(runs_file)]
by = {}
for r in runs:
    by.setdefault(r["label"], []).append(r)
med = lambda label, key: statistics.median(r[key] for r in by[label])
each = lambda label, key, fmt: " / ".join(fmt.format(r[key]) for r in by[label])
rows = [
    ("GET /me (Bearer, one token)", "me"),
    ("GET /login (logged out)", "login"),
    ("GET /account (logged in)", "account"),
    (f"GET /account paced {rate}/s", "account_paced"),
]
lines = [
    "<!-- pages:begin (written by bench/pages.sh) -->",
    "## Hosted pages: CPU per request against /me, and /account's p99",
    "",
    f"- date: {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}",
    f"- command: `{command}`",
    f"- machine: nproc = {cores}; load average at the end: {load}",
    f"- authgate: commit {commit}, {binary}; one server (SQLite, argon2 m=64 t=1: no login is measured)",
    f"- wrk -t1 -c{conns} --latency on 127.0.0.1, {secs} s runs, {repeat} repeats interleaved (/me, /login, /account, paced /account), medians; wrk shares the cores with the server. The paced run is bench/paced: a fixed {rate} req/s for {secs} s over at most 32 connections, each latency counted from the moment its request was due (no coordinated omission: a stall shows as latency for every request due meanwhile).",
    "- load: the 1-minute load average at the end of each run (other work on the machine counts: the figures are noisier the higher it is)",
    "- server CPU per request: utime + stime of the server process (`/proc/<pid>/stat`) over the run, divided by the requests wrk completed",
    "",
    "| run | req/s (median) | each repeat | p50 ms | p99 ms | server CPU µs/req (median) | each repeat | load at each | non-2xx | socket errors |",
    "| --- | ---: | --- | ---: | ---: | ---: | --- | --- | ---: | --- |",
]
for title, label in rows:
    lines.append(
        f"| {title} | {med(label, 'rps'):,.0f} | {each(label, 'rps', '{:,.0f}')} | {med(label, 'p50'):.2f} | "
        f"{med(label, 'p99'):.2f} | {med(label, 'cpu_us'):.0f} | {each(label, 'cpu_us', '{:.0f}')} | {each(label, 'load', '{:.1f}')} | "
        f"{sum(r['non2xx'] for r in by[label])} | {', '.join(sorted(set(r['errors'] for r in by[label])))} |"
    )
me = med("me", "cpu_us")
ratio = lambda label: [r["cpu_us"] / m["cpu_us"] for r, m in zip(by[label], by["me"])]
lines += [
    "",
    "| target | median | each repeat (÷ the /me run of the same repeat) | wanted | met |",
    "| --- | ---: | --- | --- | --- |",
]
for title, label in [("CPU of GET /login ÷ GET /me", "login"), ("CPU of GET /account ÷ GET /me", "account")]:
    rs = ratio(label)
    m = statistics.median(rs)
    lines.append(f"| {title} | {m:.2f} | {' / '.join(f'{x:.2f}' for x in rs)} | < 2 | {'yes' if m < 2 else '**no**'} |")
p99 = med("account_paced", "p99")
lines.append(f"| p99 of GET /account at {rate} req/s | {p99:.2f} ms | {each('account_paced', 'p99', '{:.2f}')} | < 10 ms | {'yes' if p99 < 10 else '**no**'} |")
lines.append("<!-- pages:end -->")
section = "\n".join(lines) + "\n"
text = open(results).read()
start, end = text.find("<!-- pages:begin"), text.find("<!-- pages:end -->")
if start >= 0 and end >= 0:
    text = text[:start] + section + text[end + len("<!-- pages:end -->\n"):]
else:
    text = text.rstrip("\n") + "\n\n" + section
open(results, "w").write(text)
print(section)
PY
