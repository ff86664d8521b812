#!/usr/bin/env python3
"""Prints the results of `cargo bench -p authgate-jwt --bench jwt` as a Markdown table.

Reads criterion's target/criterion/**/new/{benchmark,estimates}.json (the
latest run of each benchmark). Ratios are of times, so above 1 means authgate
is faster (jsonwebtoken/authgate, oxitoken/authgate) or slower than the floor
(authgate/bare).

A second table gives, for verify, the floor of any verify into the benched
claims struct on aws-lc-rs and serde_json: the bare primitive plus
serde_json reading the already-decoded claims into that struct
(`claims-json`), with no base64, header or validation at all. jsonwebtoken
divided by it is the most any such library could be faster than
jsonwebtoken.

usage: python3 crates/authgate-jwt/benches/table.py [--median] [CRITERION_DIR]
"""

import json
import sys
from pathlib import Path

LIBRARIES = ["authgate", "jsonwebtoken", "oxitoken", "bare", "authgate-parsed-header"]
CLAIMS_JSON = "claims-json"
OPERATIONS = ["verify", "sign"]
ALGORITHMS = ["HS256", "RS256", "ES256", "EdDSA"]


def load(root, stat):
    """{(operation, algorithm): {library: nanoseconds}} from every new/ result under root."""
    results = {}
    for bench in root.glob("**/new/benchmark.json"):
        meta = json.loads(bench.read_text())
        estimates = json.loads((bench.parent / "estimates.json").read_text())
        group = meta.get("group_id", "")
        if "/" not in group:
            continue
        operation, algorithm = group.split("/", 1)
        results.setdefault((operation, algorithm), {})[meta["function_id"]] = estimates[stat][
            "point_estimate"
        ]
    return results


def fmt_time(ns):
    if ns is None:
        return "–"
    for unit, scale in (("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}" if ns / scale < 100 else f"{ns / scale:.0f} {unit}"
    return f"{ns:.0f} ns"


def fmt_ratio(numerator, denominator):
    if numerator is None or denominator is None:
        return "–"
    return f"{numerator / denominator:.2f}×"


def main(argv):
    stat = "median" if "--median" in argv else "mean"
    paths = [a for a in argv if not a.startswith("--")]
    default = Path(__file__).resolve().parents[3] / "target" / "criterion"
    root = Path(paths[0]) if paths else default
    results = load(root, stat)
    if not results:
        sys.exit(f"no criterion results under {root}: run the bench first")

    print(
        f"| operation | algorithm | authgate ({stat}) | jsonwebtoken | jsonwebtoken/authgate "
        f"| oxitoken | oxitoken/authgate | bare floor | authgate/bare "
        f"| authgate, foreign header | jsonwebtoken/that |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for operation in OPERATIONS:
        for algorithm in ALGORITHMS:
            row = results.get((operation, algorithm))
            if row is None:
                continue
            ag, jwt, oxi, bare, parsed = (row.get(lib) for lib in LIBRARIES)
            print(
                f"| {operation} | {algorithm} | {fmt_time(ag)} | {fmt_time(jwt)} "
                f"| {fmt_ratio(jwt, ag)} | {fmt_time(oxi)} | {fmt_ratio(oxi, ag)} "
                f"| {fmt_time(bare)} | {fmt_ratio(ag, bare)} "
                f"| {fmt_time(parsed)} | {fmt_ratio(jwt, parsed)} |"
            )

    print()
    print(
        "| verify | bare | claims JSON | floor (sum) | authgate | authgate/floor "
        "| jsonwebtoken | jsonwebtoken/floor | jsonwebtoken/authgate |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for algorithm in ALGORITHMS:
        row = results.get(("verify", algorithm), {})
        bare, json_ns, ag, jwt = (row.get(k) for k in ("bare", CLAIMS_JSON, "authgate", "jsonwebtoken"))
        if bare is None or json_ns is None:
            continue
        floor = bare + json_ns
        print(
            f"| {algorithm} | {fmt_time(bare)} | {fmt_time(json_ns)} | {fmt_time(floor)} "
            f"| {fmt_time(ag)} | {fmt_ratio(ag, floor)} | {fmt_time(jwt)} "
            f"| {fmt_ratio(jwt, floor)} | {fmt_ratio(jwt, ag)} |"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
