use crate::{ServerError, System};

/// Where a real server is, parsed from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub system: System,
    /// The URL as the user gave it (or the default), for messages. Never holds a password: see [`Target::display_url`].
    url: String,
    pub host: String,
    pub port: u16,
}

const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379/";
const DEFAULT_MYSQL_URL: &str = "mysql://lab@127.0.0.1:3306/lab";

/// The Redis the lab uses: `LAB_REDIS_URL`, or the loopback default.
pub fn redis_target() -> Result<Target, ServerError> {
    Target::from_env(System::Redis, DEFAULT_REDIS_URL, 6379)
}

/// The MySQL/MariaDB the lab uses: `LAB_MYSQL_URL`, or the loopback default.
pub fn mysql_target() -> Result<Target, ServerError> {
    Target::from_env(System::Mysql, DEFAULT_MYSQL_URL, 3306)
}

impl Target {
    fn from_env(system: System, default: &str, default_port: u16) -> Result<Self, ServerError> {
        let var = system.env_var();
        let url = match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => v.trim().to_string(),
            _ => default.to_string(),
        };
        Self::parse(system, &url, default_port)
    }

    /// Parses `scheme://[user[:password]@]host[:port][/path]`, enough to know where the server is.
    pub fn parse(system: System, url: &str, default_port: u16) -> Result<Self, ServerError> {
        let bad = |reason: &str| ServerError::BadUrl {
            var: system.env_var(),
            url: url.to_string(),
            reason: reason.to_string(),
        };
        let scheme = match system {
            System::Redis => "redis://",
            System::Mysql => "mysql://",
        };
        let rest = url
            .strip_prefix(scheme)
            .ok_or_else(|| bad(&format!("it must start with {scheme}")))?;
        let authority = rest.split(['/', '?']).next().unwrap_or("");
        let hostport = authority.rsplit('@').next().unwrap_or("");
        let (host, port) = if let Some(inner) = hostport.strip_prefix('[') {
            // [::1]:6379
            let (h, after) = inner
                .split_once(']')
                .ok_or_else(|| bad("unclosed '[' in host"))?;
            let port = after.strip_prefix(':').unwrap_or("");
            (h.to_string(), port)
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), p),
                None => (hostport.to_string(), ""),
            }
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let port = if port.is_empty() {
            default_port
        } else {
            port.parse::<u16>()
                .map_err(|_| bad(&format!("port {port:?} is not a number from 1 to 65535")))?
        };
        if port == 0 {
            return Err(bad("port 0"));
        }
        Ok(Target {
            system,
            url: url.to_string(),
            host,
            port,
        })
    }

    /// The URL to hand to the client library.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The URL with any password masked, for messages and reports.
    pub fn display_url(&self) -> String {
        match self.url.split_once("://") {
            Some((scheme, rest)) => match rest.split_once('@') {
                Some((userinfo, after)) if userinfo.contains(':') => {
                    let user = userinfo.split(':').next().unwrap_or("");
                    format!("{scheme}://{user}:***@{after}")
                }
                _ => self.url.clone(),
            },
            None => self.url.clone(),
        }
    }

    /// `host:port`, for messages.
    pub fn addr(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// True for 127.0.0.0/8, ::1 and `localhost`: a server on this machine.
    pub fn is_loopback(&self) -> bool {
        if self.host.eq_ignore_ascii_case("localhost") {
            return true;
        }
        self.host
            .parse::<std::net::IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
    }

    /// Changing a server's settings is allowed on loopback, or anywhere with `LAB_ALLOW_REMOTE=1`.
    pub fn may_change(&self, what: &str) -> Result<(), ServerError> {
        let allowed = std::env::var("LAB_ALLOW_REMOTE").is_ok_and(|v| v == "1");
        if self.is_loopback() || allowed {
            Ok(())
        } else {
            Err(ServerError::RemoteRefused {
                system: self.system,
                addr: self.addr(),
                what: what.to_string(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_shapes_users_write() {
        let t = Target::parse(System::Redis, "redis://127.0.0.1:6380/0", 6379).unwrap();
        assert_eq!((t.host.as_str(), t.port), ("127.0.0.1", 6380));
        let t = Target::parse(System::Mysql, "mysql://lab:pw@db.example:3307/lab", 3306).unwrap();
        assert_eq!((t.host.as_str(), t.port), ("db.example", 3307));
        assert_eq!(t.display_url(), "mysql://lab:***@db.example:3307/lab");
        assert!(!t.is_loopback());
        let t = Target::parse(System::Redis, "redis://[::1]/", 6379).unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 6379));
        assert!(t.is_loopback());
        assert_eq!(t.addr(), "[::1]:6379");
        let t = Target::parse(System::Redis, "redis://localhost", 6379).unwrap();
        assert!(t.is_loopback());
    }

    #[test]
    fn bad_urls_get_a_reason_not_a_panic() {
        for url in [
            "http://x",
            "redis://",
            "redis://h:notaport",
            "redis://h:99999",
            "redis://h:0",
            "redis://[::1",
        ] {
            let err = Target::parse(System::Redis, url, 6379).unwrap_err();
            assert!(matches!(err, ServerError::BadUrl { .. }), "{url}: {err}");
            assert!(err.to_string().contains("LAB_REDIS_URL"), "{err}");
        }
    }

    #[test]
    fn remote_servers_are_not_changed_without_permission() {
        let t = Target::parse(System::Redis, "redis://10.1.2.3/", 6379).unwrap();
        if std::env::var("LAB_ALLOW_REMOTE").is_err() {
            let err = t.may_change("CONFIG SET maxmemory").unwrap_err();
            assert!(err.to_string().contains("LAB_ALLOW_REMOTE=1"), "{err}");
        }
        let local = Target::parse(System::Redis, "redis://127.0.0.2/", 6379).unwrap();
        assert!(local.may_change("CONFIG SET maxmemory").is_ok());
    }
}
