use std::process::ExitCode;

use catalog::{Env, Need, Probe, Registry};
use serde::Serialize;

use crate::out;

#[derive(Serialize)]
struct Report {
    rust: RustInfo,
    go: Component,
    redis: Component,
    mysql: Component,
    ci: bool,
}

#[derive(Serialize)]
struct RustInfo {
    built_with: &'static str,
    on_path: Option<String>,
}

#[derive(Serialize)]
struct Component {
    found: bool,
    url: Option<String>,
    version: Option<String>,
    details: Vec<(String, String)>,
    problem: Option<String>,
    fix: Option<String>,
    demos: usize,
}

pub fn doctor(registry: &Registry, json: bool) -> anyhow::Result<ExitCode> {
    let env = Env::from_env()?;
    let demos_needing = |n: Need| registry.demos().filter(|d| d.needs == n).count();
    let rustc_on_path = std::process::Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());

    let go = match env.go() {
        Ok(g) => Component {
            found: true,
            url: Some(g.bin.display().to_string()),
            version: Some(g.version.clone()),
            details: vec![("programs".into(), g.module_dir.display().to_string())],
            problem: None,
            fix: None,
            demos: demos_needing(Need::Go),
        },
        Err(e) => Component {
            found: false,
            url: None,
            version: None,
            details: vec![],
            problem: Some(e.to_string()),
            fix: Some(
                "install Go 1.22+ from https://go.dev/dl/ (or set LAB_GO to the go binary)".into(),
            ),
            demos: demos_needing(Need::Go),
        },
    };
    let redis = match env.redis_probe() {
        Probe::Up(i) => Component {
            found: true,
            url: Some(env.redis_url()),
            version: Some(i.version.clone()),
            details: vec![("mode".into(), i.mode.clone())],
            problem: None,
            fix: None,
            demos: demos_needing(Need::Redis),
        },
        Probe::Down(why) => Component {
            found: false,
            url: Some(env.redis_url()),
            version: None,
            details: vec![],
            problem: Some(why.clone()),
            fix: Some("bash scripts/services.sh up   (or LAB_REDIS_URL=redis://host:port/)".into()),
            demos: demos_needing(Need::Redis),
        },
    };
    let mysql = match env.mysql_probe() {
        Probe::Up(i) => {
            let mut details = vec![
                ("flavor".into(), i.flavor.to_string()),
                ("default isolation".into(), i.isolation.clone()),
                (
                    "innodb_snapshot_isolation".into(),
                    match i.snapshot_isolation {
                        Some(true) => "ON".into(),
                        Some(false) => "OFF".into(),
                        None => "(not present on this server)".into(),
                    },
                ),
            ];
            if let Some(f) = &i.flush_log_at_trx_commit {
                details.push(("innodb_flush_log_at_trx_commit".into(), f.clone()));
            }
            Component {
                found: true,
                url: Some(env.mysql_url()),
                version: Some(i.version.clone()),
                details,
                problem: None,
                fix: None,
                demos: demos_needing(Need::Mysql),
            }
        }
        Probe::Down(why) => Component {
            found: false,
            url: Some(env.mysql_url()),
            version: None,
            details: vec![],
            problem: Some(why.clone()),
            fix: Some(
                "bash scripts/services.sh up   (or LAB_MYSQL_URL=mysql://user:pass@host:port/lab)"
                    .into(),
            ),
            demos: demos_needing(Need::Mysql),
        },
    };
    let report = Report {
        rust: RustInfo {
            built_with: catalog::rustc_version(),
            on_path: rustc_on_path,
        },
        go,
        redis,
        mysql,
        ci: env.ci,
    };
    let all_found = report.go.found && report.redis.found && report.mysql.found;
    if json {
        out::line(serde_json::to_string_pretty(&report)?);
    } else {
        out::line(format!(
            "{} rust   built with {}{}",
            out::green("✔"),
            report.rust.built_with,
            match &report.rust.on_path {
                Some(v) if v != report.rust.built_with => format!("; on PATH: {v}"),
                _ => String::new(),
            }
        ));
        for (name, c) in [
            ("go", &report.go),
            ("redis", &report.redis),
            ("mysql", &report.mysql),
        ] {
            if c.found {
                out::line(format!(
                    "{} {name:<6} {} at {}",
                    out::green("✔"),
                    c.version.as_deref().unwrap_or("?"),
                    c.url.as_deref().unwrap_or("?")
                ));
                for (k, v) in &c.details {
                    out::line(format!("         {k}: {v}"));
                }
            } else {
                out::line(format!(
                    "{} {name:<6} {}",
                    out::red("✘"),
                    c.problem.as_deref().unwrap_or("missing")
                ));
                if let Some(fix) = &c.fix {
                    out::line(format!("         fix: {fix}"));
                }
                out::line(format!("         {} demos need it", c.demos));
            }
        }
        if env.ci {
            out::line("CI=true: a missing Go or server makes `lab run` fail instead of skipping.");
        }
    }
    Ok(if all_found {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
