#!/usr/bin/env bash
# Load run of the OpenID Connect endpoints: server CPU per request of the
# code exchange (POST /oauth/token, authorization_code) and userinfo against
# today's refresh on one authgate, and authgate against node's oidc-provider
# (bench/peer-oidc: in-memory adapter, EdDSA JWT access tokens) for client
# credentials, refresh and userinfo, all in one run, repeated. Writes its own
# section of bench/RESULTS.md. bench/README.md ("OpenID Connect") says what
# each run is.
#
#   bash bench/oidc.sh                             # 5 s runs, 3 repeats
#   BENCH_SECONDS=3 BENCH_REPEAT=2 bash bench/oidc.sh
#
# Environment (all optional):
#   BENCH_SECONDS       length of each wrk run (default 5; codes live 60 s, and
#                       each exchange run spends codes minted just before it)
#   BENCH_REPEAT        repeats; the tables show medians (default 3)
#   BENCH_CONNECTIONS   wrk connections (default 64)
#   BENCH_AUTHGATE_BIN  use this authgate binary instead of building one
#
# Needs wrk, node and npm (the peer's pinned packages are installed into
# bench/peer-oidc/node_modules with `npm ci`), python3, curl, openssl. Traffic goes to
# 127.0.0.1 only, every run is bounded in time, and every process started
# here is stopped on exit.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH_DIR")
S=${BENCH_SECONDS:-5}
REPEAT=${BENCH_REPEAT:-3}
CONNS=${BENCH_CONNECTIONS:-64}
TICKS=$(getconf CLK_TCK)
PASSWORD='bench-Pa55word-correct-horse-battery'
# RFC 7636's example pair: every code of the bench has this challenge.
VERIFIER='dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'
CHALLENGE='E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'
REDIRECT='https://rp.example/cb'
COMMAND="$(env | grep -E '^BENCH_[A-Z_]+=' | sort | tr '\n' ' ' || true)bash bench/oidc.sh"

while read -r var; do unset "$var"; done < <(compgen -e | grep '^AUTHGATE_' || true)

WORK=$(mktemp -d /tmp/authgate-oidc-bench.XXXXXX)
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ready() { # URL PID LOG
  for _ in $(seq 1 600); do
    curl -s -o /dev/null "$1" && return 0
    kill -0 "$2" 2>/dev/null || { tail -20 "$3" >&2; die "a server exited"; }
    sleep 0.1
  done
  die "$1 did not answer"
}

command -v wrk >/dev/null || die "wrk is missing (apt-get install -y wrk)"
command -v node >/dev/null && command -v npm >/dev/null || die "node and npm are needed (apt-get install -y nodejs npm)"
if [[ ! -d $BENCH_DIR/peer-oidc/node_modules/oidc-provider ]]; then
  log "installing the peer's pinned packages (npm ci)"
  (cd "$BENCH_DIR/peer-oidc" && npm ci --no-audit --no-fund)
fi

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

# ------------------------------------------------------------------ authgate
PORT=$(free_port)
URL="http://127.0.0.1:$PORT"
mkdir -p "$WORK/data"
export AUTHGATE_SERVER__BIND="127.0.0.1:$PORT" AUTHGATE_SERVER__PUBLIC_URL="$URL" \
  AUTHGATE_STORAGE__DATA_DIR="$WORK/data" AUTHGATE_PASSWORDS__ARGON2_MEMORY_KIB=64 \
  AUTHGATE_PASSWORDS__ARGON2_ITERATIONS=1 AUTHGATE_RATE_LIMIT__LOGIN_PER_IP_PER_MINUTE=1000000 \
  AUTHGATE_OIDC__ENABLED=true RUST_LOG=warn
"$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
PIDS+=("$SERVER_PID")
wait_ready "$URL/healthz" "$SERVER_PID" "$WORK/server.log"

json() { python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }
SERVICE=$("$BIN" client add bench-service --role user --json)
CC_AUTH="Basic $(printf '%s:%s' "$(json client_id <<<"$SERVICE")" "$(json client_secret <<<"$SERVICE")" | base64 -w0)"
RP=$("$BIN" oidc-client add 'Bench RP' --first-party --redirect-uri "$REDIRECT" --scope profile --scope email \
  --scope offline_access --json)
RP_ID=$(json client_id <<<"$RP")
RP_AUTH="Basic $(printf '%s:%s' "$RP_ID" "$(json client_secret <<<"$RP")" | base64 -w0)"

# A user, its browser session (the cookie the authorization endpoint reads),
# and refresh tokens from API logins (today's refresh).
curl -sf -o /dev/null -H 'content-type: application/json' \
  -d "{\"email\":\"bench@example.com\",\"password\":\"$PASSWORD\"}" "$URL/auth/register"
JAR="$WORK/cookies"
CSRF=$(curl -sf -c "$JAR" "$URL/login" | python3 -c 'import re,sys; print(re.search(r"name=\"csrf\" value=\"([^\"]+)\"", sys.stdin.read()).group(1))')
curl -sf -o /dev/null -b "$JAR" -c "$JAR" -H "Origin: $URL" \
  --data-urlencode "csrf=$CSRF" --data-urlencode "identifier=bench@example.com" \
  --data-urlencode "password=$PASSWORD" "$URL/login"
SESSION=$(awk '$6 == "authgate_session" {print $7}' "$JAR")
[[ -n $SESSION ]] || die "the browser login set no session cookie"
COOKIE="authgate_session=$SESSION"
AUTHORIZE="/oauth/authorize?response_type=code&client_id=$RP_ID&redirect_uri=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$REDIRECT")&scope=openid%20profile%20email&state=s&nonce=n&code_challenge=$CHALLENGE&code_challenge_method=S256"
first=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -H "Cookie: $COOKIE" "$URL$AUTHORIZE")
[[ $first == "303 $REDIRECT?code="* ]] || die "the authorization endpoint did not answer with a code: $first"
FIRST_CODE=$(sed -E 's/.*[?&]code=([^&]+).*/\1/' <<<"$first")
EXCHANGE_BODY="grant_type=authorization_code&code=@TOKEN@&redirect_uri=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$REDIRECT")&code_verifier=$VERIFIER"
ACCESS=$(curl -sf -H "Authorization: $RP_AUTH" --data "${EXCHANGE_BODY/@TOKEN@/$FIRST_CODE}" "$URL/oauth/token" | json access_token)
[[ $(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ACCESS" "$URL/oauth/userinfo") == 200 ]] ||
  die "userinfo refused the code exchange's access token"
# Refresh tokens rotate, and a rotated one presented again is theft
# (its session dies): each repeat gets fresh pools, minted here.
mint_refresh_pools() {
  log "minting the relying party's refresh tokens (offline_access sign-ins, set-up only)"
  for _ in $(seq 1 $((CONNS * 2))); do
    offline=$(curl -s -o /dev/null -w '%{redirect_url}' -H "Cookie: $COOKIE" "$URL${AUTHORIZE/scope=openid%20profile%20email/scope=openid%20offline_access}")
    code=$(sed -E 's/.*[?&]code=([^&]+).*/\1/' <<<"$offline")
    curl -sf -H "Authorization: $RP_AUTH" --data "${EXCHANGE_BODY/@TOKEN@/$code}" "$URL/oauth/token" | json refresh_token
  done >"$WORK/rp-refresh.txt"
  log "minting authgate refresh tokens (logins, set-up only)"
  for _ in $(seq 1 $((CONNS * 2))); do
    curl -sf -H 'content-type: application/json' \
      -d "{\"email\":\"bench@example.com\",\"password\":\"$PASSWORD\"}" "$URL/auth/login" | json refresh_token
  done >"$WORK/authgate-refresh.txt"
  curl -sf -X POST "$PEER/bench/mint?kind=refresh&n=$((CONNS * 2))" >"$WORK/peer-refresh.txt"
}

# ---------------------------------------------------------------- the peer
PEER_PORT=$(free_port)
PEER="http://127.0.0.1:$PEER_PORT"
PEER_SECRET=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')
node "$BENCH_DIR/peer-oidc/server.mjs" "$PEER_PORT" "$PEER_SECRET" >"$WORK/peer.log" 2>&1 &
PEER_PID=$!
PIDS+=("$PEER_PID")
wait_ready "$PEER/.well-known/openid-configuration" "$PEER_PID" "$WORK/peer.log"
PEER_AUTH="Basic $(printf 'bench:%s' "$PEER_SECRET" | base64 -w0)"
PEER_ACCESS=$(curl -sf -X POST "$PEER/bench/mint?kind=userinfo&n=1")
[[ $(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $PEER_ACCESS" "$PEER/me") == 200 ]] ||
  die "the peer's userinfo refused its own token"
peer_cc=$(curl -sf -H "Authorization: $PEER_AUTH" -d grant_type=client_credentials -d scope=api "$PEER/token" | json access_token)
[[ $(cut -d. -f1 <<<"$peer_cc" | base64 -d 2>/dev/null || true) == *EdDSA* ]] ||
  die "the peer's client-credentials token is not an EdDSA JWT"

cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }

# run LABEL PID BASE_URL [VAR=VALUE…]: one wrk run of lua/oauth.lua with the
# given BENCH_* settings; appends a JSON line to $WORK/runs.
run() {
  local label=$1 pid=$2 base=$3 before after out
  shift 3
  before=$(cpu_ticks "$pid")
  out=$(env "$@" wrk -t1 -c"$CONNS" -d"${S}s" --latency -s "$BENCH_DIR/lua/oauth.lua" "$base")
  after=$(cpu_ticks "$pid")
  python3 - "$label" "$((after - before))" "$TICKS" "$(cut -d' ' -f1 /proc/loadavg)" >>"$WORK/runs" <<PY
import json, re, sys
label, ticks, hz, load = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
out = """$out"""
def ms(pattern):
    found = re.search(pattern + r"\s+([\d.]+)(us|ms|s|m)\b", out)
    if not found:
        return float("nan")
    value, unit = found.groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]
ok = int(re.search(r"^ok=(\d+)", out, re.M).group(1))
if ok == 0:
    print(f"{label}: no answer succeeded:\n{out}", file=sys.stderr)
failed = int(re.search(r"^failed=(\d+)", out, re.M).group(1))
print(json.dumps({
    "label": label, "ok": ok, "failed": failed,
    "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
    "p50": ms("50%"),
    "p99": ms("99%"),
    "cpu_us": ticks * 1e6 / hz / max(ok, 1),
    "load": load,
}))
PY
  tail -1 "$WORK/runs" >&2
}

TOKEN_PATH=/oauth/token
for rep in $(seq 1 "$REPEAT"); do
  log "repeat $rep of $REPEAT"
  mint_refresh_pools
  # Codes for this repeat's exchange run, minted just before it (they live 60 s).
  run authorize "$SERVER_PID" "$URL" BENCH_MODE=collect BENCH_PATH="$AUTHORIZE" BENCH_COOKIE="$COOKIE" \
    BENCH_OUT="$WORK/codes.txt" BENCH_COUNT=1000000
  run exchange "$SERVER_PID" "$URL" BENCH_MODE=once BENCH_METHOD=POST BENCH_PATH=$TOKEN_PATH \
    BENCH_AUTH="$RP_AUTH" BENCH_BODY="$EXCHANGE_BODY" BENCH_TOKENS="$WORK/codes.txt"
  run refresh "$SERVER_PID" "$URL" BENCH_MODE=rotate BENCH_METHOD=POST BENCH_PATH=$TOKEN_PATH \
    BENCH_BODY="grant_type=refresh_token&refresh_token=@TOKEN@" BENCH_TOKENS="$WORK/authgate-refresh.txt"
  # The exchange signs an RS256 ID token; its floor, measured here each
  # repeat, shows how much of the exchange no implementation can save.
  rsa_s=$(openssl speed -seconds 2 rsa2048 2>/dev/null | awk '$1 == "rsa" && $2 == "2048" {sub(/s$/, "", $4); print $4}')
  [[ -n $rsa_s ]] || die "openssl speed rsa2048 gave no figure (apt-get install -y openssl)"
  printf '{"label": "rsa_sign", "ok": 1, "failed": 0, "rps": 0, "p50": 0, "p99": 0, "cpu_us": %s, "load": %s}\n' \
    "$(python3 -c "print(float('$rsa_s') * 1e6)")" "$(cut -d' ' -f1 /proc/loadavg)" >>"$WORK/runs"
  run rp_refresh "$SERVER_PID" "$URL" BENCH_MODE=rotate BENCH_METHOD=POST BENCH_PATH=$TOKEN_PATH \
    BENCH_AUTH="$RP_AUTH" BENCH_BODY="grant_type=refresh_token&refresh_token=@TOKEN@" BENCH_TOKENS="$WORK/rp-refresh.txt"
  run userinfo "$SERVER_PID" "$URL" BENCH_PATH=/oauth/userinfo BENCH_AUTH="Bearer $ACCESS"
  run cc "$SERVER_PID" "$URL" BENCH_METHOD=POST BENCH_PATH=$TOKEN_PATH BENCH_AUTH="$CC_AUTH" \
    BENCH_BODY="grant_type=client_credentials"
  run peer_refresh "$PEER_PID" "$PEER" BENCH_MODE=rotate BENCH_METHOD=POST BENCH_PATH=/token \
    BENCH_AUTH="$PEER_AUTH" BENCH_BODY="grant_type=refresh_token&refresh_token=@TOKEN@" \
    BENCH_TOKENS="$WORK/peer-refresh.txt"
  # The peer's in-memory adapter keeps its last 1,000 records (an LRU): the
  # refresh run above evicts an older access token and its grant, after
  # which every /me answers 401. So each repeat mints its token here.
  PEER_ACCESS=$(curl -sf -X POST "$PEER/bench/mint?kind=userinfo&n=1")
  run peer_userinfo "$PEER_PID" "$PEER" BENCH_PATH=/me BENCH_AUTH="Bearer $PEER_ACCESS"
  run peer_cc "$PEER_PID" "$PEER" BENCH_METHOD=POST BENCH_PATH=/token BENCH_AUTH="$PEER_AUTH" \
    BENCH_BODY="grant_type=client_credentials&scope=api"
done

python3 - "$WORK/runs" "$REPO/bench/RESULTS.md" "$COMMAND" "$S" "$REPEAT" "$CONNS" \
  "$(cd "$REPO" && git rev-parse --short HEAD)" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" \
  "$BINARY_NOTE" "$(node --version)" <<'PY'
import json, statistics, sys, time
runs_file, results, command, secs, repeat, conns, commit, cores, load, binary, node = sys.argv[1:]
runs = [json.loads(line) for line in open(runs_file)]
by = {}
for r in runs:
    by.setdefault(r["label"], []).append(r)
med = lambda label, key: statistics.median(r[key] for r in by[label])
each = lambda label, key, fmt: " / ".join(fmt.format(r[key]) for r in by[label])
rows = [
    ("authgate GET /oauth/authorize (logged in, first-party: 303 with a code)", "authorize", "set-up of the exchange run; also measured"),
    ("authgate POST /oauth/token authorization_code", "exchange", "each code once (minted just before); PKCE, an EdDSA access token, an RS256 ID token, a new session"),
    ("authgate POST /oauth/token refresh_token", "refresh", "today's refresh: rotation, a pool of tokens from /auth/login"),
    ("authgate POST /oauth/token refresh_token, a relying party's", "rp_refresh", "offline_access: HTTP Basic, rotation, an EdDSA access token and an RS256 ID token"),
    ("authgate GET /oauth/userinfo", "userinfo", "one access token from a code exchange"),
    ("authgate POST /oauth/token client_credentials", "cc", "HTTP Basic, EdDSA JWT"),
    ("oidc-provider POST /token refresh_token", "peer_refresh", "rotation on every use, EdDSA JWT access token (resource indicator), Basic"),
    ("oidc-provider GET /me (userinfo)", "peer_userinfo", "one opaque access token (its userinfo takes only those)"),
    ("oidc-provider POST /token client_credentials", "peer_cc", "Basic, EdDSA JWT access token"),
]
lines = [
    "<!-- oidc:begin (written by bench/oidc.sh) -->",
    "## OpenID Connect: code exchange and userinfo against refresh; authgate against node's oidc-provider",
    "",
    f"- date: {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}",
    f"- command: `{command}`",
    f"- machine: nproc = {cores}; load average at the end: {load} (other work on the machine shows here and in the per-run load column)",
    f"- authgate: commit {commit}, {binary}; one server (SQLite, `[oidc] enabled`)",
    f"- peer: bench/peer-oidc (oidc-provider 9.13.3 on node {node}, one process, in-memory adapter)",
    f"- wrk -t1 -c{conns} --latency on 127.0.0.1, {secs} s runs, {repeat} repeats interleaved, medians; wrk shares the cores with the servers",
    "- server CPU per request: utime + stime of the server process (`/proc/<pid>/stat`) over the run, divided by the answers that succeeded",
    "",
    "| run | answers/s (median) | each repeat | p50 ms | p99 ms | server CPU µs/answer (median) | each repeat | failed answers | load (1 min) at each run's end | what |",
    "| --- | ---: | --- | ---: | ---: | ---: | --- | ---: | --- | --- |",
]
for title, label, what in rows:
    lines.append(
        f"| {title} | {med(label, 'rps'):,.0f} | {each(label, 'rps', '{:,.0f}')} | {med(label, 'p50'):.2f} | "
        f"{med(label, 'p99'):.2f} | {med(label, 'cpu_us'):.0f} | {each(label, 'cpu_us', '{:.0f}')} | "
        f"{sum(r['failed'] for r in by[label])} | {each(label, 'load', '{:.1f}')} | {what} |"
    )
def ratio(a, b):
    rs = [x["cpu_us"] / y["cpu_us"] for x, y in zip(by[a], by[b])]
    return statistics.median(rs), " / ".join(f"{x:.2f}" for x in rs)
lines += [
    "",
    f"- one RS256 signature (RSA-2048, `openssl speed rsa2048` on the same machine, each repeat; every code exchange makes one): "
    f"{med('rsa_sign', 'cpu_us'):.0f} µs ({each('rsa_sign', 'cpu_us', '{:.0f}')})",
    "",
    "| target (server CPU per answer, same repeat) | median | each repeat | wanted | met |",
    "| --- | ---: | --- | --- | --- |",
]
for title, a, b, limit in [
    ("code exchange ÷ refresh (authgate)", "exchange", "refresh", 1.5),
    ("userinfo ÷ refresh (authgate)", "userinfo", "refresh", None),
    ("client credentials: authgate ÷ oidc-provider", "cc", "peer_cc", 1 / 3),
    ("refresh: authgate ÷ oidc-provider", "refresh", "peer_refresh", 1 / 3),
    ("refresh, a relying party's (with its ID token): authgate ÷ oidc-provider (none)", "rp_refresh", "peer_refresh", None),
    ("userinfo: authgate ÷ oidc-provider", "userinfo", "peer_userinfo", 1 / 3),
]:
    m, rs = ratio(a, b)
    wanted = "—" if limit is None else ("≤ 1.5" if limit == 1.5 else "≤ 0.33")
    met = "—" if limit is None else ("yes" if m <= limit else "**no**")
    if any(r["failed"] or not r["ok"] for r in by[a] + by[b]):
        # A run with refused answers measured something else: no verdict.
        met = "**no figure: a run had failed answers**"
    lines.append(f"| {title} | {m:.2f} | {rs} | {wanted} | {met} |")
floor = [(x["cpu_us"] - r["cpu_us"]) / y["cpu_us"] for x, r, y in zip(by["exchange"], by["rsa_sign"], by["refresh"])]
lines.append(
    f"| (for reference: code exchange less its RS256 signature ÷ refresh) | {statistics.median(floor):.2f} | "
    f"{' / '.join(f'{v:.2f}' for v in floor)} | — | — |"
)
lines.append("<!-- oidc:end -->")
section = "\n".join(lines) + "\n"
text = open(results).read()
start, end = text.find("<!-- oidc:begin"), text.find("<!-- oidc:end -->")
if start >= 0 and end >= 0:
    text = text[:start] + section + text[end + len("<!-- oidc:end -->\n"):]
else:
    text = text.rstrip("\n") + "\n\n" + section
open(results, "w").write(text)
print(section)
PY
