//! The names of the connection settings ferropg accepts, in one table that the config resolver
//! and the connection-string parser both read.

/// The canonical key for every name we accept (libpq's and ferropg's camelCase ones).
pub fn canonical(key: &str) -> Option<&'static str> {
    Some(match key {
        "host" => "host",
        "hostaddr" => "hostaddr",
        "port" => "port",
        "user" | "username" => "user",
        "password" => "password",
        "dbname" | "database" => "dbname",
        "application_name" | "applicationName" => "application_name",
        "fallback_application_name" => "fallback_application_name",
        "connect_timeout" => "connect_timeout",
        "connectTimeoutMillis" => "connect_timeout_millis",
        "options" => "options",
        "service" => "service",
        "passfile" => "passfile",
        "target_session_attrs" | "targetSessionAttrs" => "target_session_attrs",
        "load_balance_hosts" | "loadBalanceHosts" => "load_balance_hosts",
        "keepalives" => "keepalives",
        "keepalives_idle" => "keepalives_idle",
        "keepalives_interval" => "keepalives_interval",
        "keepalives_count" => "keepalives_count",
        "tcp_user_timeout" => "tcp_user_timeout",
        "sslmode" | "sslMode" => "sslmode",
        "sslrootcert" => "sslrootcert",
        "sslcert" => "sslcert",
        "sslkey" => "sslkey",
        "sslcrl" => "sslcrl",
        "sslsni" => "sslsni",
        "sslnegotiation" => "sslnegotiation",
        "ssl_min_protocol_version" => "ssl_min_protocol_version",
        "ssl_max_protocol_version" => "ssl_max_protocol_version",
        "channel_binding" | "channelBinding" => "channel_binding",
        "require_auth" | "requireAuth" => "require_auth",
        // node-postgres's `ssl` object, translated by lib/config.js: PEM text and a name.
        "ssl.ca" => "ssl.ca",
        "ssl.cert" => "ssl.cert",
        "ssl.key" => "ssl.key",
        "ssl.servername" => "ssl.servername",
        "client_encoding" => "client_encoding",
        "statementCacheSize" | "statement_cache_size" => "statement_cache_size",
        "transport" => "transport",
        "prepare" => "prepare",
        "max" => "max",
        "idleTimeoutMillis" => "idle_timeout_millis",
        "maxLifetimeSeconds" => "max_lifetime_seconds",
        "acquireTimeoutMillis" => "acquire_timeout_millis",
        "healthCheckAfterMillis" => "health_check_after_millis",
        "types.int8" => "types.int8",
        "types.numeric" => "types.numeric",
        "types.date" => "types.date",
        "types.timestamp" => "types.timestamp",
        "types.results" => "types.results",
        _ => return None,
    })
}

/// One setting and where it came from (for error messages).
#[derive(Debug, Clone)]
pub struct Setting {
    /// The name the user gave it (or the environment variable).
    pub key: String,
    pub value: String,
}
