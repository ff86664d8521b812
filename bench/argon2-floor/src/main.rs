//! Prints how many argon2id password verifies per second this machine does
//! with given parameters, with N threads verifying in a loop (as the server's
//! hashing pool does: one verify per blocking thread, N = cores).
//!
//! Usage: argon2-floor [--memory-kib 19456] [--iterations 2] [--parallelism 1]
//!                     [--threads <nproc>] [--seconds 5]
//! Output: one line of `key=value` pairs, ending with `verifies_per_sec=<f64>`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, PasswordHash, Version};

fn arg(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| v.parse().unwrap_or_else(|_| panic!("{name} takes a number")))
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
    let memory = arg(&args, "--memory-kib", 19_456) as u32;
    let iterations = arg(&args, "--iterations", 2) as u32;
    let parallelism = arg(&args, "--parallelism", 1) as u32;
    let threads = arg(&args, "--threads", cores);
    let seconds = arg(&args, "--seconds", 5);

    let params = Params::new(memory, iterations, parallelism, None).expect("argon2 parameters");
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let password = b"correct horse battery staple 42";
    let salt = [7u8; 16];
    let phc = argon2
        .hash_password_with_salt(password, &salt)
        .expect("hash")
        .to_string();

    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (argon2, phc, stop, done) =
                (argon2.clone(), phc.clone(), Arc::clone(&stop), Arc::clone(&done));
            std::thread::spawn(move || {
                let hash = PasswordHash::new(&phc).expect("phc");
                while !stop.load(Ordering::Relaxed) {
                    argon2.verify_password(password, &hash).expect("verify");
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().expect("worker");
    }
    // Count the verifies finished while stopping too, over the whole elapsed time.
    let elapsed = start.elapsed().as_secs_f64();
    let n = done.load(Ordering::Relaxed);
    println!(
        "m={memory} t={iterations} p={parallelism} threads={threads} seconds={elapsed:.2} verifies={n} verifies_per_sec={:.1}",
        n as f64 / elapsed
    );
}
