//! Rebuilds the crate when a migration is added or changed: `sqlx::migrate!`
//! embeds the migrations folder, but cargo does not track new files in it.

#![allow(
    clippy::print_stdout,
    reason = "cargo reads build-script instructions from stdout"
)]

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
