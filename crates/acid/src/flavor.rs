//! Where MariaDB and MySQL spell the same thing differently: the isolation-level variable.
//!
//! Both default to REPEATABLE READ, but they publish it under different names, and asking the
//! wrong one is an error (1193 "Unknown system variable"), not an empty answer:
//!
//! ```text
//!                     @@tx_isolation          @@transaction_isolation
//!   MySQL 5.7.20+     yes (deprecated)        yes
//!   MySQL 8.0.3+      removed                 yes
//!   MariaDB < 11.1    yes                     no  (1193)
//!   MariaDB 11.1+     yes                     yes (added as the MySQL name)
//! ```
//!
//! [`isolation_variable`] picks the name that works on every version of a flavor the lab supports;
//! [`has_transaction_isolation`] predicts whether the MySQL name exists, and the isolation demo
//! asks the server to confirm the prediction.
//!
//! # How the real system differs
//!
//! The table is from release notes; only MariaDB 10.11 is checked by the lab's own runs.

use servers::Flavor;

/// `(major, minor, patch)` from `VERSION()`, e.g. `10.11.19-MariaDB-0+deb12u1` or `8.4.5`.
pub fn parse_version(version: &str) -> Option<(u16, u16, u16)> {
    let numeric = version
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .next()?;
    let mut parts = numeric.split('.').map(|p| p.parse::<u16>().ok());
    let major = parts.next()??;
    let minor = parts.next()??;
    let patch = parts.next().flatten().unwrap_or(0);
    Some((major, minor, patch))
}

/// The system variable holding the isolation level on every supported version of `flavor`.
pub fn isolation_variable(flavor: Flavor) -> &'static str {
    match flavor {
        Flavor::MariaDb => "tx_isolation",
        Flavor::Mysql => "transaction_isolation",
    }
}

/// Whether `@@transaction_isolation` exists on this server (MySQL 5.7.20+, MariaDB 11.1+).
pub fn has_transaction_isolation(flavor: Flavor, version: &str) -> bool {
    let Some(v) = parse_version(version) else {
        return false;
    };
    match flavor {
        Flavor::Mysql => v >= (5, 7, 20),
        Flavor::MariaDb => v >= (11, 1, 0),
    }
}

/// True for the value both flavors report for REPEATABLE READ (`REPEATABLE-READ`), in any case,
/// and for the spelling with a space that `SET TRANSACTION ISOLATION LEVEL` uses.
pub fn is_repeatable_read(level: &str) -> bool {
    let l = level.trim().to_ascii_uppercase().replace(' ', "-");
    l == "REPEATABLE-READ"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_with_and_without_a_suffix() {
        assert_eq!(
            parse_version("10.11.19-MariaDB-0+deb12u1"),
            Some((10, 11, 19))
        );
        assert_eq!(parse_version("8.4.5"), Some((8, 4, 5)));
        assert_eq!(parse_version("11.8"), Some((11, 8, 0)));
        // Counterexamples: nothing numeric to read.
        assert_eq!(parse_version("MariaDB"), None);
        assert_eq!(parse_version(""), None);
        assert_eq!(parse_version("8"), None);
    }

    #[test]
    fn each_flavor_gets_the_name_it_knows() {
        assert_eq!(isolation_variable(Flavor::MariaDb), "tx_isolation");
        assert_eq!(isolation_variable(Flavor::Mysql), "transaction_isolation");
        // Counterexample: MySQL 8 removed tx_isolation, so MariaDB's name must not leak over.
        assert_ne!(isolation_variable(Flavor::Mysql), "tx_isolation");
    }

    #[test]
    fn transaction_isolation_exists_from_mysql_5_7_20_and_mariadb_11_1() {
        assert!(has_transaction_isolation(Flavor::Mysql, "8.4.5"));
        assert!(has_transaction_isolation(Flavor::Mysql, "5.7.20-log"));
        assert!(!has_transaction_isolation(Flavor::Mysql, "5.7.19"));
        assert!(!has_transaction_isolation(
            Flavor::MariaDb,
            "10.11.19-MariaDB-0+deb12u1"
        ));
        assert!(has_transaction_isolation(Flavor::MariaDb, "11.4.2-MariaDB"));
        // Counterexample: the same number means different things on the two flavors.
        assert!(has_transaction_isolation(Flavor::Mysql, "10.11.19"));
        assert!(!has_transaction_isolation(Flavor::MariaDb, "10.11.19"));
    }

    #[test]
    fn repeatable_read_is_recognised_in_both_spellings() {
        assert!(is_repeatable_read("REPEATABLE-READ"));
        assert!(is_repeatable_read("repeatable read"));
        assert!(!is_repeatable_read("READ-COMMITTED"));
        assert!(!is_repeatable_read("SERIALIZABLE"));
    }
}
