//! Printing that never panics: a closed pipe (`lab list | head`) ends the program quietly instead of
//! panicking the way `println!` does, and colors are used only on a terminal.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};

static COLOR: AtomicBool = AtomicBool::new(false);

pub fn init_color(disabled: bool) {
    let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    COLOR.store(
        !disabled && !no_color_env && std::io::stdout().is_terminal(),
        Ordering::Relaxed,
    );
}

pub fn color() -> bool {
    COLOR.load(Ordering::Relaxed)
}

/// Writes a line to stdout; exits quietly if nobody is reading any more.
pub fn line(s: impl AsRef<str>) {
    let mut o = std::io::stdout().lock();
    if writeln!(o, "{}", s.as_ref()).is_err() {
        std::process::exit(0);
    }
}

/// Writes a line to stderr, ignoring failures.
pub fn err_line(s: impl AsRef<str>) {
    let _ = writeln!(std::io::stderr().lock(), "{}", s.as_ref());
}

pub fn error(msg: &str) {
    err_line(format!("error: {msg}"));
}

/// Wraps `s` in an ANSI style when colors are on.
pub fn paint(code: &str, s: &str) -> String {
    if color() {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_string()
    }
}

pub fn green(s: &str) -> String {
    paint("32", s)
}
pub fn red(s: &str) -> String {
    paint("31", s)
}
pub fn yellow(s: &str) -> String {
    paint("33", s)
}
pub fn bold(s: &str) -> String {
    paint("1", s)
}
pub fn dim(s: &str) -> String {
    paint("2", s)
}

/// A table that fits the terminal when there is one, and stays one row per line otherwise.
pub fn table(header: Vec<&str>) -> comfy_table::Table {
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
    if std::io::stdout().is_terminal() {
        t.set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
    } else {
        t.set_content_arrangement(comfy_table::ContentArrangement::Disabled);
    }
    t.set_header(header);
    t
}
