#!/usr/bin/env bash
# The full test suite, exactly as CI runs it (.ci/run calls this script).
#
#   bash scripts/test.sh
#
# 1. installs (Debian, as root) and starts Redis and MariaDB on loopback (scripts/services.sh up);
# 2. checks formatting, clippy (warnings are errors) and the docs (warnings are errors);
# 3. vets the Go reference programs (skipped with a message when Go is missing; a failure in CI);
# 4. runs every test, the loom models, then every demo through the `lab` binary, then the quick benchmarks;
# 5. checks that the shared Redis and MariaDB were left as they were found (scripts/footprint.sh).
#
# Any failure stops the script with a non-zero exit.
set -euo pipefail
cd "$(dirname "$0")/.."

start=$(date +%s)
step() { printf '\n\033[1m== %s\033[0m (%ss)\n' "$*" "$(($(date +%s) - start))"; }
is_ci() { [[ "${CI:-}" == "true" || "${CI:-}" == "1" ]]; }

step "Rust toolchain"
if ! command -v cargo >/dev/null; then
    echo "cargo not found: install Rust with rustup (https://rustup.rs)" >&2
    exit 1
fi
for component in rustfmt clippy; do
    if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
        rustup component add "$component"
    fi
done
cargo --version

step "Real servers: scripts/services.sh up"
bash scripts/services.sh up
# The servers are borrowed: what the lab may change on them is recorded now and compared at the end.
mkdir -p target
bash scripts/footprint.sh > target/footprint-before.txt

step "Go"
go_bin=$(command -v go || true)
[[ -z "$go_bin" && -x /usr/local/go/bin/go ]] && go_bin=/usr/local/go/bin/go
if [[ -n "$go_bin" ]]; then
    "$go_bin" version
    (cd go && GOTOOLCHAIN=local GOFLAGS=-mod=mod "$go_bin" vet ./...)
    unformatted=$(cd go && "$(dirname "$go_bin")/gofmt" -l .)
    if [[ -n "$unformatted" ]]; then
        echo "Go files need gofmt: $unformatted" >&2
        exit 1
    fi
elif is_ci; then
    echo "go not found, and CI=true: the Go checks are part of the suite" >&2
    exit 1
else
    echo "skipped: go not found; the demos that compare with Go will say so"
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo clippy --features testcontainers (compiled and linted; running it needs Docker)"
cargo clippy --workspace --all-targets --features testcontainers -- -D warnings

step "cargo doc (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet

step "cargo test"
cargo test --workspace

step "loom models of the Go-semantics channel (release, own target dir)"
# `gochan_loom`, not `loom`: some dependencies have their own `cfg(loom)` mode that does not build.
RUSTFLAGS="--cfg gochan_loom" CARGO_TARGET_DIR=target/loom cargo test -p gochan --release --test loom

step "lab run --all"
cargo run --quiet -- run --all --quiet

# A quick benchmark must have measured rows (not only "not expressible" ones) for every
# implementation it promises: `bench_quick SUITE NAME...` runs it and checks that some measured row's
# implementation contains each NAME.
bench_quick() {
    local suite=$1
    shift
    step "lab bench $suite --quick"
    cargo run --quiet -- bench "$suite" --quick --json "target/bench-$suite-quick.json"
    if command -v python3 >/dev/null; then
        python3 - "target/bench-$suite-quick.json" "$suite" "$@" <<'PY'
import json, sys
path, suite, wanted = sys.argv[1], sys.argv[2], sys.argv[3:]
report = json.load(open(path))
measured = {r["implementation"] for s in report["suites"] for r in s["rows"] if r["stats"]}
missing = [w for w in wanted if not any(w in m for m in measured)]
if missing:
    sys.exit(f"lab bench {suite}: no measured rows for {missing}")
print(f"measured rows for: {', '.join(sorted(measured))}")
PY
    fi
}

bench_quick counters
bench_quick channels "gochan::chan" "crossbeam-channel" "std::sync::mpsc" "flume" "tokio::sync::mpsc" "Go"
bench_quick pool "Go" "csp::Pool" "rayon" "tokio" "threadpool" "gpm"
bench_quick zset "real Redis" "zset (SortedSet)" "BTreeSet" "crossbeam SkipSet" "skiplist OrderedSkipList"
bench_quick cache "cache::lru::Lru" "lru crate" "quick_cache" "moka" "sampled LRU" "real Redis" "model, same resident keys"
bench_quick mvcc "optimistic" "pessimistic"
# Borrows db 9 of the real Redis (checked empty, flushed only when every key is redis-benchmark's)
# and starts a throw-away redis-server for the maxmemory rows.
bench_quick serve "real Redis" "lab serve single" "lab serve shared"

step "the shared servers are left as they were found (scripts/footprint.sh)"
bash scripts/footprint.sh > target/footprint-after.txt
if ! diff target/footprint-before.txt target/footprint-after.txt; then
    echo "the run changed the shared Redis or MariaDB (lines above: < before, > after)" >&2
    exit 1
fi
echo "Redis CONFIG, keys, MariaDB global variables and tables in database lab: unchanged"

step "done in $(($(date +%s) - start))s"
