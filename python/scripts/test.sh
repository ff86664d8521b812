#!/usr/bin/env bash
# The Python package's checks: builds authgate (python/) into a virtual
# environment and runs rustfmt, clippy, mypy --strict and pytest on it.
#
#   python/scripts/test.sh            (from anywhere; PYTHON=python3.12 to choose the interpreter)
#
# The PyO3 crate is not a member of the cargo workspace (see python/Cargo.toml),
# so the workspace's fmt/clippy/test do not cover it: this script does.
# Uses $CARGO_TARGET_DIR when set, python/target otherwise.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
python="${PYTHON:-python3}"
venv="$here/.venv"

fail() {
    echo "python/scripts/test.sh: $1" >&2
    echo "  fix: $2" >&2
    exit 1
}

command -v "$python" >/dev/null 2>&1 ||
    fail "'$python' was not found" "install Python >= 3.10 (Debian: apt-get install python3 python3-venv python3-pip), or set PYTHON=/path/to/python3"
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' >/dev/null 2>&1 ||
    fail "'$python' is not a working Python >= 3.10 (the test tools need 3.10; the package runs on 3.9)" \
        "install Python >= 3.10, or set PYTHON=python3.11, for one"
command -v cargo >/dev/null 2>&1 ||
    fail "cargo was not found" "install the Rust toolchain (rustup) so maturin can build the extension"

if [[ ! -x "$venv/bin/python" ]]; then
    echo "== creating $venv"
    "$python" -m venv "$venv" 2>/dev/null ||
        fail "'$python -m venv' failed (the venv/ensurepip module is missing)" \
            "Debian/Ubuntu: apt-get install python3-venv; elsewhere reinstall Python with ensurepip"
fi
"$venv/bin/python" -m pip --version >/dev/null 2>&1 ||
    fail "pip is missing from $venv" "rm -rf $venv and run again (Debian: apt-get install python3-venv python3-pip)"

# The maturin build backend runs the `maturin` of the environment.
export PATH="$venv/bin:$PATH"

echo "== installing pinned test tools (requirements-dev.txt)"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt ||
    fail "installing requirements-dev.txt failed" "check that PyPI is reachable (pip config, proxy) and retry"

echo "== rustfmt and clippy (authgate-python crate)"
cargo fmt --manifest-path Cargo.toml --check ||
    fail "rustfmt found unformatted Rust in python/src" "run: cargo fmt --manifest-path python/Cargo.toml"
# Checked in the dev profile in the workspace's target dir, where the
# workspace's own clippy (CI runs it first) has already checked the shared
# dependencies: about 2 minutes instead of 5 from cold.
CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$here/../target}" \
    cargo clippy --manifest-path Cargo.toml --locked --all-targets --quiet -- -D warnings ||
    fail "clippy found warnings in python/src" "fix them (cargo clippy --manifest-path python/Cargo.toml --all-targets)"

echo "== building the wheel and installing it (pip install ./python, profile wheel-test)"
# --no-build-isolation: build with the pinned maturin above instead of
# fetching one per run; otherwise what `pip install ./python` does, with the
# wheel-test profile (python/Cargo.toml says why) instead of release.
MATURIN_PEP517_ARGS="--profile wheel-test" "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-build-isolation \
    --force-reinstall --no-deps "$here" ||
    fail "building the authgate wheel failed" "read the cargo/maturin output above"

echo "== building the authgate binary (the guard tests run a real authgate serve)"
# Debug, like the workspace's own tests: after scripts/test's cargo test this is a no-op.
repo="$(cd "$here/.." && pwd)"
(cd "$repo" && cargo build --quiet -p authgate) ||
    fail "cargo build -p authgate failed" "read the cargo output above"
export AUTHGATE_BIN="${CARGO_TARGET_DIR:-$repo/target}/debug/authgate"

echo "== mypy --strict"
# From python/ the source tree shadows the installed package; mypy checks the
# sources and the .pyi stubs, pytest (below) the installed wheel.
"$venv/bin/python" -m mypy --strict authgate tests
example="$repo/examples/fastapi-service"
(cd "$example" && MYPYPATH="$here" "$venv/bin/python" -m mypy --strict --config-file "$here/pyproject.toml" \
    --cache-dir "$here/.mypy_cache" .)

# stubtest and pytest run from a temporary directory, so `import authgate`
# resolves to the installed wheel, not python/authgate without its extension.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "== stubtest (the .pyi stubs against the built extension)"
(cd "$work" && "$venv/bin/python" -m mypy.stubtest authgate._authgate --ignore-disjoint-bases)

echo "== pytest"
cp -r tests "$work/tests"
cp pyproject.toml "$work/"
(cd "$work" && "$venv/bin/python" -m pytest -q -p no:cacheprovider tests)

echo "== pytest examples/fastapi-service"
mkdir "$work/example"
cp "$example"/*.py "$work/example/"
(cd "$work/example" && "$venv/bin/python" -m pytest -q -p no:cacheprovider .)
