"""A real ``authgate serve`` for the guard tests: the binary built by
``cargo build -p authgate`` (``AUTHGATE_BIN``, or the repository's target
directory), a temporary data directory, a free port, cheap argon2."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Optional

PASSWORD = "violet-harbor-quantum-47-lantern"
REPO = Path(__file__).resolve().parents[2]


def binary() -> Optional[Path]:
    """The authgate binary, if built."""
    given = os.environ.get("AUTHGATE_BIN")
    if given:
        return Path(given)
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    path = target / "debug" / "authgate"
    return path if path.exists() else None


# No proxy: the server is on loopback.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Server:
    """A running ``authgate serve``; ``stop()`` kills it."""

    def __init__(self, data_dir: Path, extra_env: Optional[dict[str, str]] = None) -> None:
        exe = binary()
        if exe is None:
            raise RuntimeError("authgate is not built: run `cargo build -p authgate` or set AUTHGATE_BIN")
        self.exe = exe
        self.env = {
            key: value
            for key, value in os.environ.items()
            if key.lower() not in ("http_proxy", "https_proxy", "all_proxy")
        }
        self.env.update(
            {
                "AUTHGATE_STORAGE__DATA_DIR": str(data_dir),
                "AUTHGATE_PASSWORDS__ARGON2_MEMORY_KIB": "64",
                "AUTHGATE_PASSWORDS__ARGON2_ITERATIONS": "1",
                "AUTHGATE_SERVER__BIND": "127.0.0.1:0",
                "RUST_LOG": "warn",
            }
        )
        # Settings a test needs on top (a fixed bind and public_url, [oidc]).
        self.env.update(extra_env or {})
        self.process = subprocess.Popen(
            [str(exe), "serve"],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.url = self._wait_for_address()
        self.output: list[str] = []
        threading.Thread(target=self._drain, daemon=True).start()
        self._wait_healthy()
        # Discovery names the configured issuer's URLs, not the free port
        # bound here: the endpoints are taken from the address instead.
        self.issuer: str = self.get("/.well-known/openid-configuration")["issuer"]
        self.jwks_url = f"{self.url}/.well-known/jwks.json"
        self.introspection_url = f"{self.url}/oauth/introspect"

    def _wait_for_address(self) -> str:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("authgate listening on "):
                return line.removeprefix("authgate listening on ").strip()
        raise RuntimeError(f"authgate serve exited with {self.process.wait()}")

    def _drain(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)

    def _wait_healthy(self) -> None:
        for _ in range(600):
            try:
                with _opener.open(f"{self.url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("authgate serve did not become healthy")

    def cli(self, *args: str, stdin: Optional[str] = None) -> str:
        """``authgate args…`` on this server's stores; its standard output."""
        done = subprocess.run(
            [str(self.exe), *args], env=self.env, input=stdin, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"authgate {args} failed: {done.stderr}")
        return done.stdout

    def add_user(self, email: str, *roles: str) -> None:
        role_args = [arg for role in roles for arg in ("--role", role)]
        self.cli("user", "add", "--email", email, *role_args, "--password-stdin", stdin=PASSWORD)

    def add_client(self, name: str) -> tuple[str, str]:
        printed = json.loads(self.cli("client", "add", name, "--role", "user", "--json"))
        return printed["client_id"], printed["client_secret"]

    def request(
        self, method: str, path: str, body: Optional[dict[str, Any]] = None, token: Optional[str] = None
    ) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token is not None:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with _opener.open(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def challenge(self, path: str, authorization: Optional[str]) -> tuple[int, Optional[str]]:
        """The status and ``WWW-Authenticate`` the server answers for ``GET path``."""
        request = urllib.request.Request(f"{self.url}{path}")
        if authorization is not None:
            request.add_header("Authorization", authorization)
        try:
            with _opener.open(request, timeout=10) as response:
                return response.status, response.headers.get("WWW-Authenticate")
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("WWW-Authenticate")

    def get(self, path: str) -> Any:
        status, body = self.request("GET", path)
        assert status == 200, (path, status, body)
        return body

    def login(self, email: str) -> dict[str, Any]:
        status, body = self.request("POST", "/auth/login", {"email": email, "password": PASSWORD})
        assert status == 200, body
        result: dict[str, Any] = body
        return result

    def metric(self, name: str, **labels: str) -> float:
        """The value of one Prometheus sample of ``GET /metrics`` (0 when absent)."""
        with _opener.open(f"{self.url}/metrics", timeout=10) as response:
            text = response.read().decode()
        wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
        series = f"{name}{{{wanted}}}" if labels else name
        for line in text.splitlines():
            if line.startswith(series + " "):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()
