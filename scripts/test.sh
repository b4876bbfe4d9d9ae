#!/usr/bin/env bash
# Quick start, command 2: run every check and test, as CI does.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
started=$(date +%s)
check_versions
apt_install "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
npm_install
cd "$ROOT"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
step() { say "$1 ($(( $(date +%s) - started ))s)"; }

step "Library crates must not depend on Tauri"
if grep -lE '^\s*tauri(-[a-z-]+)?\s*=' crates/*/Cargo.toml; then
  die "the crates above depend on Tauri; keep Tauri in src-tauri/ only"
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "Rust tests (unit and integration)"
cargo test --workspace --locked

step "Generated TypeScript bindings are up to date"
if [ -n "$(git status --porcelain -- ui/src/lib/bindings)" ]; then
  git status --short -- ui/src/lib/bindings >&2
  die "ui/src/lib/bindings changed when regenerated from Rust: run 'cargo test -p switchboard-core' and commit the result"
fi

step "svelte-check"
npm run --silent check

step "UI unit tests (Vitest)"
npm run --silent test:ui

step "Building the release app and CLI for the end-to-end tests"
npm run --silent build
cargo build --release --locked -p switchboard-cli
cargo build --release --locked -p switchboard-desktop --features tauri/custom-protocol

step "End-to-end tests (real app under Xvfb, tauri-driver, real keyring)"
SWITCHBOARD_APP_BIN="$TARGET/release/switchboard-desktop" \
SWITCHBOARD_CLI_BIN="$TARGET/release/switchboard" \
  bash tests/e2e/run.sh

say "All checks passed in $(( $(date +%s) - started ))s"
