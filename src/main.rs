//! `lab`: the command-line front door of gmr-lab.
//!
//! A thin binary: it parses arguments into [`Command`], calls one function per subcommand, and owns
//! presentation and exit codes. What it shows comes from the library crates (`catalog`, `servers`,
//! `gotool` and the topic crates assembled by [`gmr_lab::registry`]).

mod cmd;
mod out;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "lab",
    version,
    about = "Go, MySQL, Redis and networking interview questions you can run, checked against the real systems",
    after_help = "Start with `lab tour`, then `lab list`, `lab show go-03`, `lab run go-03`, `lab doctor`."
)]
struct Cli {
    /// Never use colors (also: NO_COLOR=1).
    #[arg(long, global = true)]
    no_color: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs every demo that can run here (in-process ones always; Go, Redis, MySQL ones when present) and sums up.
    Tour {
        /// Print the demos' output, not just one line each.
        #[arg(long, short)]
        verbose: bool,
    },
    /// Lists the questions with their status and what runs.
    List {
        /// Only the questions of one section.
        #[arg(long, value_enum)]
        section: Option<SectionArg>,
        /// An array of objects (id, section, title_zh, title_en, status, demos, benches, ...).
        #[arg(long)]
        json: bool,
    },
    /// Shows a question's answer page, how to run its demos, and whether the servers they need are up.
    Show { id: String },
    /// Runs demos: by question id, by demo name, by section, or all. Exits non-zero unless all passed.
    Run {
        /// Question ids (go-03) or demo names (go-03/unbuffered-send-waits-for-a-receiver).
        targets: Vec<String>,
        /// Every demo of one section's questions.
        #[arg(long, value_enum, conflicts_with = "all")]
        section: Option<SectionArg>,
        /// Every demo of every question.
        #[arg(long)]
        all: bool,
        /// Exit 0 even when demos were skipped because Go or a server is missing (ignored when CI=true).
        #[arg(long)]
        allow_skip: bool,
        /// Print the outcomes as JSON on stdout (demo output goes to stderr).
        #[arg(long)]
        json: bool,
        /// Only the result line of each demo.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Runs scenario benchmarks and prints a side-by-side table with ratios. No suite: list them.
    Bench {
        /// Suites to run (counters, channels, pool, zset, cache, mvcc, serve); none lists them.
        suites: Vec<String>,
        /// Fewer iterations and repetitions: a first look, or CI.
        #[arg(long)]
        quick: bool,
        /// Where to save the results as JSON (default: bench-results/SUITE.json).
        #[arg(long, value_name = "FILE")]
        json: Option<std::path::PathBuf>,
    },
    /// Reports Rust, Go, Redis and MySQL: found or not, versions, and how to get what is missing.
    Doctor {
        #[arg(long)]
        json: bool,
    },
    /// Watches the lab's GPM scheduler run a small traced workload (go-13): which P ran which G,
    /// `runnext`, steals, the global queue.
    Gpm,
    /// Runs the lab's RESP2/RESP3 server (redis-04) in the foreground until stopped: redis-cli,
    /// redis-benchmark and Redis client libraries work against it.
    Serve {
        #[arg(long, default_value_t = 6380)]
        port: u16,
        /// single: one executor thread owns the keyspace (Redis's model); shared: a mutex.
        #[arg(long, value_enum, default_value = "single")]
        mode: ModeArg,
    },
    /// Draws a small skip list built like Redis's zset (levels and spans) and traces a ZRANK search
    /// through it (redis-10, redis-11).
    Zset {
        /// SCORE MEMBER pairs, as ZADD takes them (default: eight members a..h scored 1..8).
        pairs: Vec<String>,
        /// The 1-based rank to search for (default: the middle one).
        #[arg(long)]
        rank: Option<usize>,
        /// Seed of the level coin flips.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Runs hermitage's 15 isolation tests at the 4 levels on the lab's InnoDB model, the real
    /// MySQL/MariaDB, or both, and prints a tests x levels table (mysql-04). Exit codes: 1 model
    /// and server differ, 2 bad arguments, 3 the server could not be used.
    Hermitage {
        #[arg(long, value_enum, default_value = "model")]
        target: TargetArg,
        /// One test: g0, g1a, g1b, g1c, otv, pmp, pmp-write, p4, g-single, g-single-dependencies,
        /// g-single-write-1, g-single-write-2, g2-item, g2, g2-two-edges. Prints each step.
        #[arg(long)]
        test: Option<String>,
        /// One level: read-uncommitted (ru), read-committed (rc), repeatable-read (rr), serializable (ser).
        #[arg(long)]
        level: Option<String>,
        /// A schedule file of your own (lines like `t1: update test set value = 11 where id = 1`).
        #[arg(long, value_name = "PATH", conflicts_with = "test")]
        file: Option<std::path::PathBuf>,
        /// One JSON object per (test, level, target) with the steps.
        #[arg(long)]
        json: bool,
        /// MariaDB's innodb_snapshot_isolation=ON (write conflicts fail with 1020), on both sides.
        #[arg(long)]
        snapshot_isolation: bool,
        /// How long a step may take before the server is asked whether it waits for a lock.
        #[arg(long, default_value_t = 300, value_name = "MS")]
        blocked_wait_ms: u64,
    },
    /// Finds questions by words in either language (跳表, "skip list", mvcc, ...).
    Search {
        #[arg(required = true)]
        words: Vec<String>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum SectionArg {
    Go,
    Mysql,
    Redis,
    Net,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum TargetArg {
    Model,
    Server,
    Both,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ModeArg {
    Single,
    Shared,
}

impl SectionArg {
    fn section(self) -> catalog::Section {
        match self {
            SectionArg::Go => catalog::Section::Go,
            SectionArg::Mysql => catalog::Section::Mysql,
            SectionArg::Redis => catalog::Section::Redis,
            SectionArg::Net => catalog::Section::Net,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    out::init_color(cli.no_color);
    let registry = gmr_lab::registry();
    let result = match cli.command {
        Command::Tour { verbose } => cmd::run::tour(&registry, verbose),
        Command::List { section, json } => {
            cmd::list::list(&registry, section.map(SectionArg::section), json)
        }
        Command::Show { id } => cmd::show::show(&registry, &id),
        Command::Run {
            targets,
            section,
            all,
            allow_skip,
            json,
            quiet,
        } => cmd::run::run(
            &registry,
            cmd::run::Selection {
                targets,
                section: section.map(SectionArg::section),
                all,
            },
            cmd::run::Options {
                allow_skip,
                json,
                quiet,
            },
        ),
        Command::Bench {
            suites,
            quick,
            json,
        } => cmd::bench::bench(&registry, &suites, quick, json),
        Command::Doctor { json } => cmd::doctor::doctor(&registry, json),
        Command::Gpm => cmd::gpm::gpm(),
        Command::Zset { pairs, rank, seed } => cmd::zset::zset(&pairs, rank, seed),
        Command::Serve { port, mode } => cmd::serve::serve(
            port,
            match mode {
                ModeArg::Single => respd::Mode::Single,
                ModeArg::Shared => respd::Mode::Shared,
            },
        ),
        Command::Hermitage {
            target,
            test,
            level,
            file,
            json,
            snapshot_isolation,
            blocked_wait_ms,
        } => cmd::hermitage::hermitage(&cmd::hermitage::HermitageArgs {
            target: match target {
                TargetArg::Model => cmd::hermitage::Which::Model,
                TargetArg::Server => cmd::hermitage::Which::Server,
                TargetArg::Both => cmd::hermitage::Which::Both,
            },
            test,
            level,
            json,
            snapshot_isolation,
            file,
            blocked_wait_ms,
        }),
        Command::Search { words } => cmd::search::search(&registry, &words.join(" ")),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            out::error(&format!("{e:#}"));
            ExitCode::from(2)
        }
    }
}
