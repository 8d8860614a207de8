//! `lab serve` without the rest of the lab, for profiling the server alone:
//! `cargo run --release -p respd --example serve -- 6390 single`.

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(6390);
    let mode = match args.next().as_deref() {
        Some("shared") => respd::Mode::Shared,
        _ => respd::Mode::Single,
    };
    eprintln!("respd on 127.0.0.1:{port}, mode {}", mode.name());
    respd::serve_forever(port, mode)
}
