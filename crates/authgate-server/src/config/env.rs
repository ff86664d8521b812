//! Reading configuration from `AUTHGATE_SECTION__KEY` environment
//! variables (passed in as pairs, never read here).

/// Prefix of configuration environment variables.
pub const ENV_PREFIX: &str = "AUTHGATE_";

/// Turns `AUTHGATE_TOKENS__ACCESS_TTL=5m` pairs into a nested table (names
/// without a `__` section separator are left alone); values
/// that parse as TOML (`30`, `true`, `["a","b"]`) keep their type, anything
/// else is a string.
pub(super) fn env_table(env: impl IntoIterator<Item = (String, String)>) -> toml::Table {
    let mut root = toml::Table::new();
    for (name, raw) in env {
        let Some(path) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        let keys: Vec<String> = path.split("__").map(str::to_ascii_lowercase).collect();
        // Configuration is AUTHGATE_<SECTION>__<KEY>; other AUTHGATE_ variables
        // (AUTHGATE_TEST_POSTGRES_URL for the test suites, say) are not ours.
        if keys.len() < 2 || keys.iter().any(String::is_empty) {
            continue;
        }
        // Secrets and store URLs are taken as written: read as TOML, a
        // numeric secret would become a number (and the type error would
        // quote it), and a quoted one would silently lose its quotes.
        let verbatim = matches!(
            (keys[0].as_str(), keys[1].as_str()),
            ("tokens", "hmac_secret")
                | (
                    "storage",
                    "master_key" | "master_key_file" | "database_url" | "redis_url"
                )
        );
        let value = if verbatim {
            toml::Value::String(raw)
        } else {
            toml::from_str::<toml::Table>(&format!("v = {raw}"))
                .ok()
                .and_then(|mut t| t.remove("v"))
                .unwrap_or(toml::Value::String(raw))
        };
        insert_path(&mut root, &keys, value);
    }
    root
}

/// Sets `value` at the path `keys` in `table`, creating (or replacing with)
/// tables on the way.
fn insert_path(table: &mut toml::Table, keys: &[String], value: toml::Value) {
    match keys {
        [] => {}
        [last] => {
            table.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let entry = table
                .entry(first.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if !entry.is_table() {
                *entry = toml::Value::Table(toml::Table::new());
            }
            if let toml::Value::Table(inner) = entry {
                insert_path(inner, rest, value);
            }
        }
    }
}
