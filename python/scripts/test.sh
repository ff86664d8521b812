#!/usr/bin/env bash
# The Python package's checks: builds authgate (python/) into a virtual
# environment and runs rustfmt, clippy, mypy --strict and pytest on it.
#
#   python/scripts/test.sh            (from anywhere; PYTHON=python3.12 to choose the interpreter)
#
# The PyO3 crate is a member of the cargo workspace (python/Cargo.toml): the
# test wheel is built in the dev profile in the workspace's target dir, with
# the features `cargo test --workspace` gives the shared dependencies (the
# crate's `test-build` feature), so after the Rust tests (scripts/test, CI)
# only the extension crate itself is compiled. AUTHGATE_BIN, when set, is the
# authgate binary the guard tests run (scripts/test passes the one its Rust
# tests built); otherwise it is built here, with the same features.
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

repo="$(cd "$here/.." && pwd)"
echo "== rustfmt and clippy (authgate-python crate)"
(cd "$repo" && cargo fmt -p authgate-python --check) ||
    fail "rustfmt found unformatted Rust in python/src" "run: cargo fmt --all"
# With `test-build`, the dependencies are checked with the features of
# `cargo clippy --workspace --all-targets` (CI runs it first): only this
# crate is checked again.
(cd "$repo" && cargo clippy -p authgate-python --features test-build --locked --all-targets --quiet -- -D warnings) ||
    fail "clippy found warnings in python/src" "fix them (cargo clippy -p authgate-python --all-targets)"

if [[ -z "${AUTHGATE_BIN:-}" ]]; then
    echo "== building the authgate binary (the guard tests run a real authgate serve)"
    # Debug, with the features the wheel's dependencies get (test-build), so
    # the two builds share their dependencies.
    (cd "$repo" && cargo build --quiet --locked -p authgate --bin authgate -p authgate-python --features authgate-python/test-build) ||
        fail "cargo build -p authgate failed" "read the cargo output above"
    export AUTHGATE_BIN="${CARGO_TARGET_DIR:-$repo/target}/debug/authgate"
fi
[[ -x "$AUTHGATE_BIN" ]] || fail "AUTHGATE_BIN=$AUTHGATE_BIN is not an executable" "unset it, or build the binary (cargo build -p authgate)"

echo "== building the wheel and installing it (pip install ./python, dev profile)"
# --no-build-isolation: build with the pinned maturin above instead of
# fetching one per run. Otherwise what `pip install ./python` does, but in
# the dev profile with `test-build` (see above) instead of the user's fat-LTO
# `python-release`: minutes of optimising and linking that these tests do
# not need (they hash passwords with cheap argon2 settings). The benchmarks
# need the release wheel (python/README.md, "Performance").
MATURIN_PEP517_ARGS="--profile dev --features test-build" "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-build-isolation \
    --force-reinstall --no-deps "$here" ||
    fail "building the authgate wheel failed" "read the cargo/maturin output above"

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
