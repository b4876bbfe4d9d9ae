# Shared by scripts/app.sh and scripts/test.sh: checks versions and installs what the project
# needs on Debian 12 / Ubuntu (apt packages via sudo when not root, npm packages).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MIN_RUST="1.88.0"
MIN_NODE="20.19.0"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

check_versions() {
  command -v cargo >/dev/null || die "Rust is not installed. Install Rust $MIN_RUST or newer from https://rustup.rs, then run this again."
  local rust; rust="$(rustc --version | awk '{print $2}')"
  version_ge "$rust" "$MIN_RUST" || die "Rust $rust is too old: Switchboard needs $MIN_RUST or newer (run: rustup update stable)."
  command -v node >/dev/null || die "Node.js is not installed. Install Node.js $MIN_NODE or newer (Debian's own nodejs 18 is too old), then run this again."
  local node; node="$(node --version | sed 's/^v//')"
  version_ge "$node" "$MIN_NODE" || die "Node.js $node is too old: Switchboard needs $MIN_NODE or newer."
}

apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "Installing system packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

BUILD_PACKAGES=(libwebkit2gtk-4.1-dev build-essential pkg-config libssl-dev librsvg2-dev)
TEST_PACKAGES=(xvfb xauth x11-utils webkit2gtk-driver dbus gnome-keyring keyutils locales procps)

npm_install() {
  cd "$ROOT"
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "Installing npm packages"
    npm ci --no-audit --no-fund --loglevel=error
  fi
}
