#!/usr/bin/env bash
# The one test command of Gouvernail, run by CI (.ci/run) and by developers alike.
#
#   1. system packages (PostgreSQL server, Chromium): installed with apt only when missing
#   2. cargo fmt --check
#   3. one build linted by clippy (-D warnings), then the Rust test suite on SQLite
#   4. the same suite on a throw-away PostgreSQL server (started here, stopped on exit), less
#      the tests that touch no database
#   5. the browser tests (tests/browser, headless Chromium)
#
# Steps 1-3 stop at the first failure; the three test suites all run, and the script fails at
# the end if any of them failed.
#
# Works as root (CI, fresh Debian 12) and as a developer with sudo or with the tools installed.
# Environment knobs:
#   GOUVERNAIL_SKIP_INSTALL=1   never call apt-get (fail instead when something is missing)
#   GOUVERNAIL_SKIP_BROWSER=1   skip step 5 (not for CI)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT="$PWD"

section() { printf '\n==> %s\n' "$*"; }
die() {
  printf 'test.sh: %s\n' "$*" >&2
  exit 1
}

is_root() { [ "$(id -u)" -eq 0 ]; }

# Cargo installed by rustup but not on PATH (non-login shells).
if ! command -v cargo >/dev/null 2>&1 && [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/cargo" ]; then
  PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
fi

CHROMIUM="${GOUVERNAIL_CHROMIUM:-/usr/bin/chromium}"

# Directory of the newest PostgreSQL server binaries (initdb, pg_ctl), or nothing.
find_pg_bin() {
  local dir
  for dir in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
      echo "$dir"
      return 0
    fi
  done
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
    return 0
  fi
  return 1
}

# ---------------------------------------------------------------------------------------------
section "system packages"

missing=()
find_pg_bin >/dev/null || missing+=("postgresql (initdb)")
[ -x "$CHROMIUM" ] || missing+=("chromium ($CHROMIUM)")

if [ "${#missing[@]}" -gt 0 ]; then
  echo "missing: ${missing[*]}"
  [ "${GOUVERNAIL_SKIP_INSTALL:-0}" = 1 ] && die "GOUVERNAIL_SKIP_INSTALL=1: install them by hand"
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install PostgreSQL (server) and Chromium by hand"
  if is_root; then
    SUDO=()
  elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    die "not root and no sudo: install postgresql postgresql-contrib chromium by hand"
  fi
  apt_log="$(mktemp)"
  echo "installing postgresql postgresql-contrib chromium with apt-get (log: $apt_log)"
  if ! { "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=600 update &&
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q install -y \
      -o DPkg::Lock::Timeout=600 postgresql postgresql-contrib chromium; } >"$apt_log" 2>&1; then
    tail -n 40 "$apt_log" >&2
    die "apt-get failed (full log: $apt_log)"
  fi
  rm -f "$apt_log"
  find_pg_bin >/dev/null || die "PostgreSQL installed but initdb still not found"
  [ -x "$CHROMIUM" ] || die "chromium installed but $CHROMIUM still missing"
fi
PG_BIN="$(find_pg_bin)"

command -v node >/dev/null 2>&1 || die "Node.js (>= 20) is required for the browser tests: not found on PATH"
command -v npm >/dev/null 2>&1 || die "npm is required for the browser tests: not found on PATH"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || die "Node.js >= 20 is required (found $(node --version))"
command -v cargo >/dev/null 2>&1 || die "cargo is required: not found on PATH"

if cargo nextest --version >/dev/null 2>&1; then
  HAVE_NEXTEST=1
else
  HAVE_NEXTEST=0
fi
echo "postgresql: $PG_BIN; chromium: $CHROMIUM; node $(node --version); $(cargo --version)"
[ "$HAVE_NEXTEST" = 1 ] || echo "cargo-nextest not found: using cargo test"

if [ -d "$ROOT/../shared/data" ]; then
  GOUVERNAIL_SHARED_DATA="$(cd "$ROOT/../shared/data" && pwd)"
  export GOUVERNAIL_SHARED_DATA
  echo "GOUVERNAIL_SHARED_DATA=$GOUVERNAIL_SHARED_DATA"
fi

if [ -t 1 ]; then COLOR=always; else COLOR=never; fi
strip_ansi() { sed -e 's/\x1b\[[0-9;]*[A-Za-z]//g'; }

# Tests counted for the closing line; COUNT_OK=0 as soon as a count cannot be read.
TOTAL_PASSED=0
COUNT_OK=1
FAILED=()

# Runs the Rust test suite, output also kept in $1 to count the tests; with a second
# argument, a nextest filter (the PostgreSQL run leaves out the tests that touch no database:
# the unit tests inside the crates, the PDF and mail crates).
run_rust_tests() {
  local log="$1" filter="${2:-all()}"
  if [ "$HAVE_NEXTEST" = 1 ]; then
    cargo nextest run --workspace --locked --no-fail-fast --color "$COLOR" -E "$filter" 2>&1 | tee "$log"
  else
    cargo test --workspace --locked --no-fail-fast --color "$COLOR" 2>&1 | tee "$log"
  fi
}

# Adds the passed tests of a Rust test log to TOTAL_PASSED.
count_rust_tests() {
  local log="$1" n
  if [ "$HAVE_NEXTEST" = 1 ]; then
    n="$(strip_ansi <"$log" | sed -n 's/^ *Summary \[[^]]*\] [0-9]* tests\{0,1\} run: \([0-9]*\) passed.*/\1/p' | tail -n 1)"
  else
    n="$(strip_ansi <"$log" | sed -n 's/^test result: ok\. \([0-9]*\) passed;.*/\1/p' | awk '{s += $1} END {if (NR) print s}')"
  fi
  if [ -n "$n" ]; then
    TOTAL_PASSED=$((TOTAL_PASSED + n))
  else
    COUNT_OK=0
  fi
}

WORK="$(mktemp -d "${TMPDIR:-/tmp}/gouvernail-test.XXXXXX")"
PG_DIR=""
PG_STARTED=0

as_pg() {
  if is_root; then runuser -u postgres -- "$@"; else "$@"; fi
}

cleanup() {
  local status=$?
  if [ "$PG_STARTED" = 1 ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" stop -m immediate >/dev/null 2>&1 || true
  fi
  [ -n "$PG_DIR" ] && rm -rf "$PG_DIR"
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A first build (a fresh clone, as in CI) is faster without incremental compilation, which
# only pays off on rebuilds.
if [ -z "${CARGO_INCREMENTAL:-}" ] && [ -z "${CARGO_TARGET_DIR:-}" ] && [ ! -d "$ROOT/target/debug" ]; then
  export CARGO_INCREMENTAL=0
  echo "fresh build: CARGO_INCREMENTAL=0"
fi

# ---------------------------------------------------------------------------------------------
section "cargo fmt --check"
cargo fmt --all --check

# Clippy runs as the compiler of the workspace's own crates (RUSTC_WORKSPACE_WRAPPER, as
# `cargo clippy` does), so that one build both lints and compiles: `cargo clippy` followed by
# `cargo build` would check every dependency once more, minutes on two cores. The variables
# stay exported, so that the test runs below find the same build fresh.
CLIPPY_DRIVER="$(rustup which clippy-driver 2>/dev/null || true)"
if [ -z "$CLIPPY_DRIVER" ] || [ ! -x "$CLIPPY_DRIVER" ]; then
  CLIPPY_DRIVER="$(dirname "$(command -v cargo)")/clippy-driver"
fi
if [ -x "$CLIPPY_DRIVER" ]; then
  section "cargo build, linted by clippy (-D warnings)"
  export RUSTC_WORKSPACE_WRAPPER="$CLIPPY_DRIVER"
  export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
  cargo build --workspace --all-targets --locked --color "$COLOR"
else
  section "cargo clippy"
  cargo clippy --workspace --all-targets --locked --color "$COLOR" -- -D warnings
  section "cargo build"
  cargo build --workspace --all-targets --locked --color "$COLOR"
fi

# ---------------------------------------------------------------------------------------------
section "Rust tests on SQLite"
if GOUVERNAIL_TEST_DATABASE=sqlite run_rust_tests "$WORK/sqlite.log"; then
  count_rust_tests "$WORK/sqlite.log"
else
  FAILED+=("Rust tests on SQLite")
fi

# ---------------------------------------------------------------------------------------------
section "throw-away PostgreSQL"
if is_root; then
  if ! id -u postgres >/dev/null 2>&1; then
    useradd --system --user-group --no-create-home --shell /usr/sbin/nologin postgres
  fi
  # Under /tmp rather than TMPDIR: the postgres user must reach it.
  PG_DIR="$(mktemp -d /tmp/gouvernail-pg.XXXXXX)"
  chown postgres: "$PG_DIR"
else
  PG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/gouvernail-pg.XXXXXX")"
fi

pg_initdb() {
  as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U postgres --encoding=UTF8 --locale="$1" \
    >"$PG_DIR/initdb.log" 2>&1
}
if ! pg_initdb C.UTF-8; then
  as_pg rm -rf "$PG_DIR/data"
  if ! pg_initdb C; then
    cat "$PG_DIR/initdb.log" >&2
    die "initdb failed"
  fi
fi

PG_PORT="$(node -e '
  const srv = require("net").createServer();
  srv.listen(0, "127.0.0.1", () => { const p = srv.address().port; srv.close(() => console.log(p)); });
')"
PG_STARTED=1
if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=128MB" \
  start >/dev/null; then
  cat "$PG_DIR/server.log" >&2 || true
  die "PostgreSQL did not start"
fi
export GOUVERNAIL_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
echo "PostgreSQL $("$PG_BIN/pg_ctl" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT ($PG_DIR)"

section "Rust tests on PostgreSQL"
DB_TESTS='not (kind(lib) or package(gouvernail-pdf) or package(gouvernail-mail))'
if GOUVERNAIL_TEST_DATABASE=postgres run_rust_tests "$WORK/postgres.log" "$DB_TESTS"; then
  count_rust_tests "$WORK/postgres.log"
else
  FAILED+=("Rust tests on PostgreSQL")
fi

# ---------------------------------------------------------------------------------------------
if [ "${GOUVERNAIL_SKIP_BROWSER:-0}" = 1 ]; then
  section "browser tests: skipped (GOUVERNAIL_SKIP_BROWSER=1)"
  COUNT_OK=0
else
  section "browser tests"
  (cd tests/browser && npm ci --no-audit --no-fund --no-update-notifier --loglevel=error >/dev/null)
  TARGET_DIR="$(cargo metadata --format-version 1 --no-deps --locked |
    node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).target_directory))')"
  if GOUVERNAIL_BIN="$TARGET_DIR/debug/gouvernail" GOUVERNAIL_CHROMIUM="$CHROMIUM" \
    node tests/browser/run.mjs 2>&1 | tee "$WORK/browser.log"; then
    n="$(sed -n 's/^browser: \([0-9]*\) passed, 0 failed$/\1/p' "$WORK/browser.log" | tail -n 1)"
    if [ -n "$n" ]; then
      TOTAL_PASSED=$((TOTAL_PASSED + n))
    else
      COUNT_OK=0
    fi
  else
    FAILED+=("browser tests")
  fi
fi

# ---------------------------------------------------------------------------------------------
if [ "${#FAILED[@]}" -gt 0 ]; then
  section "FAILED"
  printf '  - %s\n' "${FAILED[@]}"
  exit 1
fi
section "all green"
if [ "$COUNT_OK" = 1 ]; then
  echo "$TOTAL_PASSED passed, 0 failed"
fi
