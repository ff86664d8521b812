//! Running the real `authgate` binary from a test.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// The proxy variables a test must not pass on: loopback traffic to a test
/// server must not go through (or be swallowed by) a proxy.
const PROXY_VARS: [&str; 6] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// The `authgate` binary with `args` and `env` (later entries win), no
/// proxy, and standard input, output and error piped.
pub(crate) fn command(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_authgate"));
    command.args(args);
    for var in PROXY_VARS {
        command.env_remove(var);
    }
    command
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Runs `authgate args…` to completion with `env` set and `stdin` (if any)
/// written to its standard input, which is then closed.
pub(crate) fn run(args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Output {
    let mut child = command(args, env).spawn().unwrap();
    let mut pipe = child.stdin.take().unwrap();
    if let Some(input) = stdin {
        pipe.write_all(input.as_bytes()).unwrap();
    }
    drop(pipe);
    child.wait_with_output().unwrap()
}

/// Like [`run`], expecting success (the failure message shows standard error).
pub(crate) fn run_ok(args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Output {
    let out = run(args, stdin, env);
    assert!(
        out.status.success(),
        "authgate {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The environment of a command working on the stores in `data_dir`
/// directly, with argon2 made cheap for tests.
pub(crate) fn on_stores(data_dir: &Path) -> [(&'static str, String); 3] {
    [
        ("AUTHGATE_STORAGE__DATA_DIR", data_dir.display().to_string()),
        ("AUTHGATE_PASSWORDS__ARGON2_MEMORY_KIB", "64".into()),
        ("AUTHGATE_PASSWORDS__ARGON2_ITERATIONS", "1".into()),
    ]
}

/// `vars` as the borrowed pairs [`run`] takes.
pub(crate) fn borrowed<'a>(vars: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    vars.iter().map(|(k, v)| (*k, v.as_str())).collect()
}
