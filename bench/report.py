"""Turns the outputs of bench/run.sh (one file per run and repeat) into the
Markdown tables of bench/RESULTS.md: medians of the repeats, the ratios of the
issue's targets, and whether each is met.

Usage: python3 report.py RESULTS_DIR [--connections 64] [--cores 2]
                         [--paced-rate 1000] [--login-load-connections 16]

Each input is `LABEL.REP.txt`: wrk's output (with --latency) plus a line
`server_cpu_seconds=X` (CPU time the server used during the run), or for
`argon2_floor` the floor program's line plus the shell's CPU times;
`LABEL.tokens` holds the number of distinct tokens of a cold run.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import statistics

UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def parse(path: str) -> dict:
    text = open(path).read()
    r = {"rps": None, "p50": None, "p99": None, "requests": 0, "non2xx": 0,
         "sockerr": 0, "cpu": None, "sys": None, "cpu_per_op_us": None, "sys_per_op_us": None}
    if m := re.search(r"Requests/sec:\s+([\d.]+)", text):
        r["rps"] = float(m.group(1))
    if m := re.search(r"(\d+) requests in", text):
        r["requests"] = int(m.group(1))
    for q in ("50", "99"):
        if m := re.search(r"^\s+%s%%\s+([\d.]+)(us|ms|s|m)\s*$" % q, text, re.M):
            r["p" + q] = float(m.group(1)) * UNITS_MS[m.group(2)]
    if m := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text):
        r["non2xx"] = int(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text):
        r["sockerr"] = sum(int(x) for x in m.groups())
    if m := re.search(r"server_cpu_seconds=([\d.]+),([\d.]+)", text):
        r["cpu"], r["sys"] = float(m.group(1)), float(m.group(2))
    # The argon2 floor: verifies/s, and CPU per verify from the shell's `time`.
    if m := re.search(r"verifies=(\d+) verifies_per_sec=([\d.]+)", text):
        r["requests"], r["rps"] = int(m.group(1)), float(m.group(2))
        u = re.search(r"cpu_user_seconds=([\d.]+) cpu_system_seconds=([\d.]+)", text)
        if u:
            r["cpu"], r["sys"] = float(u.group(1)) + float(u.group(2)), float(u.group(2))
    if r["cpu"] is not None and r["requests"] > 0:
        r["cpu_per_op_us"] = r["cpu"] / r["requests"] * 1e6
        r["sys_per_op_us"] = r["sys"] / r["requests"] * 1e6
    return r


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--paced-rate", type=int, default=1000)
    ap.add_argument("--login-load-connections", type=int, default=16)
    args = ap.parse_args()

    runs: dict[str, list[dict]] = {}
    for path in sorted(glob.glob(os.path.join(args.out, "*.*.txt"))):
        label = os.path.basename(path).rsplit(".", 2)[0]
        runs.setdefault(label, []).append(parse(path))

    def tokens(label: str) -> int | None:
        p = os.path.join(args.out, label + ".tokens")
        return int(open(p).read()) if os.path.exists(p) else None

    def med(label: str, key: str) -> float | None:
        vals = [r[key] for r in runs.get(label, []) if r[key] is not None]
        return statistics.median(vals) if vals else None

    def fmt(v: float | None, digits: int = 0) -> str:
        return "—" if v is None else f"{v:,.{digits}f}"

    def cpu_cell(label: str) -> str:
        total, sys = med(label, "cpu_per_op_us"), med(label, "sys_per_op_us")
        return "—" if total is None else f"{fmt(total)} ({fmt(sys)})"

    c = args.connections
    rows = [
        ("healthz", "authgate GET /healthz (no auth)", "the EdDSA /me instance"),
        ("me_eddsa_warm", "authgate GET /me EdDSA, warm", "one token: verified-token cache hits"),
        ("me_eddsa_cold", "authgate GET /me EdDSA, cold", "distinct tokens, fresh process"),
        ("me_hs256_warm", "authgate GET /me HS256, warm", "one token"),
        ("me_hs256_cold", "authgate GET /me HS256, cold", "distinct tokens, fresh process"),
        ("peer_healthz", "peer GET /healthz (no auth)", "FastAPI, uvicorn 2 workers"),
        ("peer_me_eddsa", "peer GET /me EdDSA", "PyJWT verifies every request"),
        ("peer_me_hs256", "peer GET /me HS256", "PyJWT verifies every request"),
        ("login", "authgate POST /auth/login", f"argon2id m=19456 t=2 p=1, -c{c}"),
        ("argon2_floor", "argon2id verifies/s, same parameters", f"bench/argon2-floor, {args.cores} threads; CPU column: per verify"),
        ("me_paced", f"authgate GET /me EdDSA paced ~{args.paced_rate}/s", "one token, -c10 with a delay; no other load"),
        ("me_paced_during_logins", f"authgate GET /me EdDSA paced ~{args.paced_rate}/s during logins", f"a 2nd wrk (-c{args.login_load_connections}) keeps the hashing pool full; CPU column includes the logins"),
        ("me_during_logins", "authgate GET /me EdDSA at saturation during logins", f"-c{c}, same login load; CPU column includes the logins"),
        ("login_under_me", "  logins/s meanwhile", "the 2nd wrk, over both runs above"),
    ]
    lines = [
        "| run | req/s (median) | each repeat | p50 ms | p99 ms | server CPU µs/req (of which system) | non-2xx | socket errors | notes |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for label, name, note in rows:
        rs = runs.get(label, [])
        if not rs:
            continue
        rate = med(label, "rps") or 0
        digits = 1 if rate < 1000 else 0
        each = " / ".join(fmt(r["rps"], digits) for r in rs)
        non2xx = sum(r["non2xx"] for r in rs)
        sockerr = sum(r["sockerr"] for r in rs)
        if label.endswith("_cold"):
            n = tokens(label)
            most = max(r["requests"] for r in rs)
            if n is not None and most > n:
                note += f"; **tokens wrapped**: {most:,} requests > {n:,} tokens, raise BENCH_COLD_TOKENS"
            elif n is not None:
                note += f"; {n:,} tokens ≥ {most:,} requests: no token sent twice"
        if label == "argon2_floor":
            lines.append(f"| {name} | {fmt(rate, 1)} | {each} | — | — | {cpu_cell(label)} | — | — | {note} |")
            continue
        cpu = "—" if label == "login_under_me" else cpu_cell(label)
        lines.append(
            f"| {name} | {fmt(rate, digits)} | {each} | {fmt(med(label, 'p50'), 2)} | {fmt(med(label, 'p99'), 2)} "
            f"| {cpu} | {non2xx} | {sockerr} | {note} |"
        )

    def ratio(a: str, b: str) -> float | None:
        x, y = med(a, "rps"), med(b, "rps")
        return None if x is None or not y else x / y

    def cpu_ratio(a: str, b: str) -> float | None:
        """How many of a's requests fit in the server CPU one of b's takes: b's CPU/req ÷ a's."""
        x, y = med(a, "cpu_per_op_us"), med(b, "cpu_per_op_us")
        return None if x is None or not y else y / x

    def errors(*labels: str) -> int:
        return sum(r["non2xx"] + r["sockerr"] for l in labels for r in runs.get(l, []))

    targets = [
        ("/me EdDSA warm ÷ /healthz", "me_eddsa_warm", "healthz", 0.5, "≥ 0.50", 2),
        ("/me EdDSA cold ÷ /healthz", "me_eddsa_cold", "healthz", 0.5, "(≥ 0.50)", 2),
        ("/me HS256 warm ÷ /healthz", "me_hs256_warm", "healthz", 0.5, "(≥ 0.50)", 2),
        ("/me HS256 cold ÷ /healthz", "me_hs256_cold", "healthz", 0.5, "(≥ 0.50)", 2),
        ("/me EdDSA warm ÷ peer /me EdDSA", "me_eddsa_warm", "peer_me_eddsa", 10, "≥ 10", 1),
        ("/me EdDSA cold ÷ peer /me EdDSA", "me_eddsa_cold", "peer_me_eddsa", 10, "(≥ 10)", 1),
        ("/me HS256 warm ÷ peer /me HS256", "me_hs256_warm", "peer_me_hs256", 10, "≥ 10", 1),
        ("/me HS256 cold ÷ peer /me HS256", "me_hs256_cold", "peer_me_hs256", 10, "(≥ 10)", 1),
        ("logins/s ÷ argon2 floor", "login", "argon2_floor", 0.9, "≥ 0.90", 2),
    ]
    lines += [
        "",
        "| target | throughput ratio | by server CPU per request | wanted | met (by throughput) |",
        "| --- | ---: | ---: | --- | --- |",
    ]
    for name, a, b, want, wanted, digits in targets:
        v = ratio(a, b)
        met = "—" if v is None else ("yes" if v >= want else "**no**")
        if errors(a, b):
            met += f" ({errors(a, b)} non-2xx/socket errors in these runs)"
        lines.append(f"| {name} | {fmt(v, digits)} | {fmt(cpu_ratio(a, b), digits)} | {wanted} | {met} |")
    p99 = med("me_paced_during_logins", "p99")
    met = "—" if p99 is None else ("yes" if p99 < 10 else "**no**")
    if errors("me_paced_during_logins"):
        met += f" ({errors('me_paced_during_logins')} non-2xx/socket errors)"
    lines.append(
        f"| p99 of /me (paced ~{args.paced_rate}/s) while logins saturate the hashing pool "
        f"| {fmt(p99, 2)} ms | — | < 10 ms | {met} |"
    )
    lines.append(
        f"| (for reference: the same without logins; at saturation -c{c} during logins) "
        f"| {fmt(med('me_paced', 'p99'), 2)} ms; {fmt(med('me_during_logins', 'p99'), 2)} ms | — | | |"
    )
    bad = sum(r["non2xx"] + r["sockerr"] for rs in runs.values() for r in rs)
    lines += [
        "",
        "Wanted values in parentheses are for reference, not the issue's targets: "
        "the targets allow the verified-token cache (the cold path is measured "
        "separately), and the 50% of /healthz is stated for EdDSA tokens.",
        "",
        f"Non-2xx responses and socket errors over all runs: {bad}.",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
