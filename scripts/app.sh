#!/usr/bin/env bash
# Quick start, command 1: build and launch the desktop app. With nothing configured it opens
# the demo workspace. Extra arguments go to the app (e.g. --data-dir DIR).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
check_versions
apt_install "${BUILD_PACKAGES[@]}"
npm_install
cd "$ROOT"
say "Building the UI"
npm run --silent build
say "Building the app (release; the first build takes several minutes)"
cargo build --release -p switchboard-desktop --features tauri/custom-protocol
say "Launching Switchboard"
exec "${CARGO_TARGET_DIR:-$ROOT/target}/release/switchboard-desktop" "$@"
