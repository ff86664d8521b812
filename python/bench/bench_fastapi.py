"""A FastAPI route behind authgate's guard dependency against the same route
verifying with PyJWT: requests per second under wrk, on 127.0.0.1.

Run (after python/scripts/test.sh built the wheel into python/.venv, and
``pip install -r python/requirements-bench.txt``):

    python/.venv/bin/python python/bench/bench_fastapi.py

Each app runs in its own ``uvicorn`` (one worker, one process, no access
log, httptools absent so both use h11) and is driven by ``wrk -t2 -c32``
for ``--duration`` seconds with one realistic EdDSA access token (the
server's algorithm), after a warm-up; the apps alternate run by run,
``--repeat`` times, and the best and median of each are printed. wrk is
Debian's package: this script runs ``apt-get install -y wrk`` when it is
missing and it can (root), and says how otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench_decode import AUDIENCE, ISSUER, claims

from authgate import jwt as ag

HERE = Path(__file__).resolve().parent
# No proxy: the apps are on loopback.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("# wrk is missing: apt-get install -y wrk", file=sys.stderr)
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False, stdout=subprocess.DEVNULL)
        found = shutil.which("wrk")
        if found:
            return found
    sys.exit("bench_fastapi.py needs wrk: apt-get install wrk (Debian/Ubuntu), brew install wrk (macOS)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start(app: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """``uvicorn bench.fastapi_apps:app`` on a free port, once it answers."""
    for _ in range(5):
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", f"fastapi_apps:{app}", "--app-dir", str(HERE),
             "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning",
             "--http", "h11", "--loop", "asyncio"],
            # From the bench directory: a working directory of python/ would
            # put the source tree (without its extension) before the wheel.
            env=env, cwd=HERE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}/orders"
        for _ in range(600):
            if process.poll() is not None:
                break
            try:
                OPENER.open(url, timeout=1)
            except urllib.error.HTTPError:
                return process, url  # 401 without a token: it is up
            except OSError:
                time.sleep(0.05)
        process.kill()
        process.wait()
    raise RuntimeError(f"uvicorn {app} did not start")


def wrk(binary: str, url: str, token: str, seconds: int) -> float:
    done = subprocess.run(
        [binary, "-t2", "-c32", f"-d{seconds}s", "-H", f"Authorization: Bearer {token}", url],
        capture_output=True, text=True, check=True,
    )
    if "Non-2xx" in done.stdout:
        raise RuntimeError(f"non-2xx answers from {url}:\n{done.stdout}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    if match is None:
        raise RuntimeError(done.stdout)
    return float(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    args = parser.parse_args()
    binary = ensure_wrk()
    signing = ag.SigningKey.generate("EdDSA")
    token = ag.encode(claims(int(time.time())), signing, headers={"typ": "at+jwt"})
    env = dict(os.environ, BENCH_ISSUER=ISSUER, BENCH_AUDIENCE=AUDIENCE,
               BENCH_PUBLIC_JWK=json.dumps(signing.verifying_key.to_jwk()), PYTHONPATH=str(HERE))
    apps = {"authgate guard dependency": "guard_app", "PyJWT dependency": "pyjwt_app"}
    servers = {name: start(app, env) for name, app in apps.items()}
    rates: dict[str, list[float]] = {name: [] for name in apps}
    try:
        for name, (_, url) in servers.items():
            wrk(binary, url, token, 2)  # warm-up
        for _ in range(args.repeat):
            for name, (_, url) in servers.items():
                rates[name].append(wrk(binary, url, token, args.duration))
    finally:
        for process, _ in servers.values():
            process.kill()
            process.wait()
    print(f"# {time.strftime('%Y-%m-%d')}, Python {sys.version.split()[0]}, wrk -t2 -c32 -d{args.duration}s, "
          f"{args.repeat} runs each, alternating; EdDSA token")
    print("| route | best req/s | median req/s | ÷ PyJWT (best) | ÷ PyJWT (median) |")
    print("|---|---:|---:|---:|---:|")
    reference = rates["PyJWT dependency"]
    for name, values in rates.items():
        print(f"| {name} | {max(values):.0f} | {statistics.median(values):.0f} "
              f"| {max(values) / max(reference):.2f}x | {statistics.median(values) / statistics.median(reference):.2f}x |")


if __name__ == "__main__":
    main()
