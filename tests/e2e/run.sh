#!/usr/bin/env bash
# End-to-end tests of the real, built desktop app. Builds nothing: give it the binaries.
#
#   SWITCHBOARD_APP_BIN  the app   (default: target/release/switchboard-desktop, built with
#                        `npm run app:build`, i.e. with the UI embedded)
#   SWITCHBOARD_CLI_BIN  the CLI   (default: target/release/switchboard; serves the second sandbox)
#
# It runs `node --test tests/e2e/` under a private D-Bus session with an unlocked
# gnome-keyring (the app's master key goes into a real Secret Service), a private Xvfb,
# temporary XDG dirs, LANG=en_US.UTF-8 and tauri-driver -> WebKitWebDriver.
# Screenshots and logs land in test-output/e2e/. Every process it starts is stopped by PID.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="$ROOT/test-output/e2e"
say() { printf '\033[1m[e2e]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31m[e2e] error:\033[0m %s\n' "$*" >&2; exit 1; }

PIDS=() # what inner() started, stopped in reverse order on exit
# Kills processes of `$1` that run in this test run's profile (an interrupted spec can leave
# the app or a sandbox behind); found by PID through their environment, never by name.
kill_ours() {
  local exe dir pid
  exe="$(readlink -f "$1")"
  for dir in /proc/[0-9]*; do
    pid="${dir#/proc/}"
    [[ "$(readlink -f "$dir/exe" 2>/dev/null)" == "$exe" ]] || continue
    tr '\0' '\n' <"$dir/environ" 2>/dev/null | grep -qx "XDG_RUNTIME_DIR=$XDG_RUNTIME_DIR" &&
      kill "$pid" 2>/dev/null || true
  done
}

cleanup() {
  local i
  kill_ours "$SWITCHBOARD_APP_BIN"
  kill_ours "$SWITCHBOARD_CLI_BIN"
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    kill "${PIDS[i]}" 2>/dev/null || true
    wait "${PIDS[i]}" 2>/dev/null || true
  done
}

inner() {
  # Runs inside `dbus-run-session`: its own session bus, torn down when this returns.
  # Our messages go to the terminal (fd 3); the bus and the services it activates log to a file.
  exec 2>&3 3>&-
  trap cleanup EXIT
  trap 'exit 130' INT TERM

  # 1. Real keyring: gnome-keyring's Secret Service in the foreground (so it dies by PID with
  #    the run). The password only protects this run's throwaway keyring, but must not be
  #    empty: with an empty one gnome-keyring 42 creates no `login` collection (no `default`
  #    alias), and storing the master key then fails. DISPLAY unset: the daemon must not
  #    try to prompt on the X server.
  printf 'switchboard-e2e' | env -u DISPLAY gnome-keyring-daemon --foreground --unlock \
    --components=secrets >"$OUT/gnome-keyring.log" 2>&1 &
  PIDS+=($!)
  local i
  for i in $(seq 1 100); do
    if dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
      org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null |
      grep -q 'boolean true' &&
      dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets \
        org.freedesktop.Secret.Service.ReadAlias string:default 2>/dev/null |
      grep -q 'collection/'; then break; fi
    [[ $i == 100 ]] && die "gnome-keyring did not come up with a default collection (see $OUT/gnome-keyring.log)"
    sleep 0.1
  done

  # 2. A private X server; -displayfd picks a free display number.
  local dfile="$TMPROOT/display"
  Xvfb -displayfd 5 -screen 0 1600x1000x24 -nolisten tcp 5>"$dfile" >"$OUT/xvfb.log" 2>&1 &
  PIDS+=($!)
  for i in $(seq 1 100); do
    [[ -s "$dfile" ]] && break
    [[ $i == 100 ]] && die "Xvfb did not start (see $OUT/xvfb.log)"
    sleep 0.1
  done
  export DISPLAY=":$(tr -d '[:space:]' <"$dfile")"

  # 3. tauri-driver in front of WebKitWebDriver. The app's stderr (its logs) ends up here too.
  tauri-driver --port 4444 --native-port 4445 --native-driver /usr/bin/WebKitWebDriver \
    >"$OUT/tauri-driver.log" 2>&1 &
  PIDS+=($!)
  for i in $(seq 1 100); do
    (exec 3<>/dev/tcp/127.0.0.1/4444) 2>/dev/null && break
    [[ $i == 100 ]] && die "tauri-driver did not listen on 4444 (see $OUT/tauri-driver.log)"
    sleep 0.1
  done

  say "display $DISPLAY, keyring up, tauri-driver on :4444; running the specs"
  cd "$ROOT"
  # One app at a time: the specs share the window, the driver and the keyring.
  node --test --test-concurrency=1 tests/e2e/
}

if [[ "${1:-}" == "--inner" ]]; then
  inner
  exit $?
fi

# ---- outer: check the tools, prepare the environment, enter the private session ----------
cd "$ROOT"
APP_BIN="${SWITCHBOARD_APP_BIN:-$ROOT/target/release/switchboard-desktop}"
CLI_BIN="${SWITCHBOARD_CLI_BIN:-$ROOT/target/release/switchboard}"
[[ -x "$APP_BIN" ]] || die "no app binary at $APP_BIN (build it: npm run app:build, or set SWITCHBOARD_APP_BIN)"
[[ -x "$CLI_BIN" ]] || die "no CLI binary at $CLI_BIN (cargo build --release -p switchboard-cli, or set SWITCHBOARD_CLI_BIN)"
[[ -d node_modules/webdriverio ]] || die "node_modules/webdriverio is missing: run npm ci"

sudo_() { if [[ $(id -u) == 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

missing=()
for tool in Xvfb:xvfb dbus-run-session:dbus gnome-keyring-daemon:gnome-keyring \
  /usr/bin/WebKitWebDriver:webkit2gtk-driver xdotool:xdotool; do
  command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
done
if ((${#missing[@]})); then
  say "installing ${missing[*]}"
  sudo_ apt-get install -y --no-install-recommends "${missing[@]}" ||
    die "missing packages: ${missing[*]} (apt-get install them)"
fi

export PATH="$HOME/.cargo/bin:$PATH"
if ! command -v tauri-driver >/dev/null; then
  say "installing tauri-driver (cargo install tauri-driver --locked --version ^2)"
  cargo install tauri-driver --locked --version '^2'
fi

# The UI formats amounts for the locale: test with the one the contract names.
E2E_LANG=en_US.UTF-8
if ! locale -a 2>/dev/null | grep -qix 'en_US\.utf-\?8'; then
  say "generating the en_US.UTF-8 locale"
  if sudo_ sh -c 'command -v locale-gen >/dev/null || apt-get install -y --no-install-recommends locales;
      sed -i "s/^# *en_US.UTF-8 UTF-8/en_US.UTF-8 UTF-8/" /etc/locale.gen;
      grep -q "^en_US.UTF-8 UTF-8" /etc/locale.gen || echo "en_US.UTF-8 UTF-8" >> /etc/locale.gen;
      locale-gen >/dev/null'; then :; else
    say "warning: could not generate en_US.UTF-8; falling back to C.UTF-8"
    E2E_LANG=C.UTF-8
  fi
fi

rm -rf "$OUT"
mkdir -p "$OUT"
TMPROOT="$(mktemp -d -t switchboard-e2e.XXXXXX)"
remove_profile() {
  # The desktop portal, which GTK activates on the private bus, mounts a FUSE file system at
  # $XDG_RUNTIME_DIR/doc and may still be shutting down: unmount it and retry for a while.
  local i
  for i in $(seq 1 40); do
    if grep -q " $TMPROOT/runtime/doc " /proc/mounts 2>/dev/null; then
      fusermount -u "$TMPROOT/runtime/doc" 2>/dev/null || umount "$TMPROOT/runtime/doc" 2>/dev/null || true
    fi
    rm -rf "$TMPROOT" 2>/dev/null && return 0
    sleep 0.25
  done
  say "warning: could not remove $TMPROOT"
}
trap remove_profile EXIT
mkdir -p "$TMPROOT"/{data,config,cache,runtime}
chmod 700 "$TMPROOT/runtime"

# A clean environment for the app: temporary profile, no master key variable (the keyring
# path is what we test), no data-dir override, no inherited session bus.
unset SWITCHBOARD_MASTER_KEY SWITCHBOARD_DATA_DIR DBUS_SESSION_BUS_ADDRESS DISPLAY WAYLAND_DISPLAY LC_ALL
export LANG="$E2E_LANG" LANGUAGE=en_US
export XDG_DATA_HOME="$TMPROOT/data" XDG_CONFIG_HOME="$TMPROOT/config"
export XDG_CACHE_HOME="$TMPROOT/cache" XDG_RUNTIME_DIR="$TMPROOT/runtime"
export SWITCHBOARD_APP_BIN="$APP_BIN" SWITCHBOARD_CLI_BIN="$CLI_BIN"
export E2E_OUTPUT_DIR="$OUT" TMPROOT
# OAuth sign-ins open "the system browser": here a script that follows the address like one.
export BROWSER="$ROOT/tests/e2e/fake-browser.sh"
export RUST_LOG="${RUST_LOG:-info}"

say "app $APP_BIN, LANG=$LANG, profile in $TMPROOT"
started=$(date +%s)
status=0
dbus-run-session -- bash "${BASH_SOURCE[0]}" --inner 3>&2 2>"$OUT/dbus-session.log" || status=$?
say "finished in $(($(date +%s) - started))s with status $status; output in $OUT"
exit "$status"
