//! Connection strings: `connstring::parse_conn_string` (URLs and libpq key=value strings) and
//! `config::Config::resolve` (every setting validated into a Config), for any text.
//!
//! Must not panic. Oracles: every key the parser returns is one `keys::canonical` accepts, and
//! resolving the string gives the same outcome as resolving the pairs it parses to (the two
//! paths meet in the same settings layers).
#![no_main]

use ferropg::core::config::Config;
use ferropg::core::connstring::parse_conn_string;
use ferropg::core::keys::canonical;
use libfuzzer_sys::fuzz_target;

/// No PG* variables, no HOME; a `service=` lookup finds no file (and reads nothing real).
fn env(key: &str) -> Option<String> {
    match key {
        "PGSYSCONFDIR" => Some("/nonexistent/ferropg-fuzz".to_string()),
        _ => None,
    }
}

fn outcome(r: ferropg::core::error::Result<Config>) -> Result<Config, String> {
    r.map_err(|e| format!("{} {e}", e.code()))
}

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let from_string = outcome(Config::resolve(&[], Some(&s), &env));
    match parse_conn_string(&s) {
        Ok(pairs) => {
            for (k, _) in &pairs {
                assert!(canonical(k).is_some(), "parser returned unknown key {k:?}");
            }
            let from_pairs = outcome(Config::resolve(&pairs, None, &env));
            assert!(
                from_string == from_pairs,
                "string and pairs resolve differently: {from_string:?} vs {from_pairs:?}"
            );
        }
        Err(e) => {
            assert!(
                from_string.is_err(),
                "parse failed ({e}) but resolve succeeded"
            );
        }
    }
    if let Ok(c) = from_string {
        let _ = format!("{c:?}");
        let _ = c.to_tokio(None);
    }
});
