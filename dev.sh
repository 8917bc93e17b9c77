#!/usr/bin/env bash
# The newcomer's two commands:
#   ./dev.sh run    install what is missing, start the private PostGIS, migrate, load the demo,
#                   serve at http://127.0.0.1:8000
#   ./dev.sh test   the same set-up, then lint, type checks and the whole test suite
# Set ZONES_DATABASE_URL to use another PostGIS instead of the private cluster.
set -euo pipefail
cd "$(dirname "$0")"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
fail() { printf '\033[1;31m==> failed: %s\033[0m\n' "$*" >&2; exit 1; }

# System packages are the only step that needs root: as root directly, otherwise through sudo
# (asked for apt-get only, with DEBIAN_FRONTEND passed on the command line so that sudo's
# default env_reset keeps it).
apt_install() {
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
  elif command -v sudo >/dev/null; then
    sudo apt-get update -q && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
  else
    fail "these system packages are missing: $*. Install them as root (apt-get install $*), or install sudo, then run this again."
  fi
}

system_packages() {
  local want=() mode=$1
  command -v python3 >/dev/null || want+=(python3)
  python3 -c 'import venv, ensurepip' 2>/dev/null || want+=(python3-venv)
  command -v npm >/dev/null || want+=(nodejs npm)
  if [ -z "${ZONES_DATABASE_URL:-}" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    want+=(postgresql)
  fi
  [ "$mode" = test ] && { [ -x /usr/bin/chromium ] || want+=(chromium); }
  # The MQTT tests start their own Mosquitto broker (never the system's service).
  [ "$mode" = test ] && { [ -x /usr/sbin/mosquitto ] || want+=(mosquitto); }
  if [ ${#want[@]} -gt 0 ]; then
    say "installing system packages: ${want[*]}"
    apt_install "${want[@]}" || fail "installing ${want[*]}"
  fi
  # PostGIS for the newest PostgreSQL server present (the private cluster uses that one).
  if [ -z "${ZONES_DATABASE_URL:-}" ]; then
    local major
    major=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
    if [ ! -f "/usr/share/postgresql/$major/extension/postgis.control" ]; then
      say "installing PostGIS for PostgreSQL $major"
      apt_install "postgresql-$major-postgis-3" || fail "installing postgresql-$major-postgis-3"
    fi
  fi
}

python_env() {
  local stamp=.venv/.installed sum
  sum=$(sha256sum pyproject.toml | cut -d' ' -f1)
  if [ ! -x .venv/bin/python ]; then
    say "creating .venv"
    python3 -m venv .venv || fail "creating the virtual environment .venv"
  fi
  if [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ]; then
    say "installing Python dependencies into .venv"
    .venv/bin/python -m pip install -q --upgrade pip || fail "upgrading pip in .venv"
    .venv/bin/python -m pip install -q -e '.[dev,bench]' || fail "installing the Python dependencies"
    echo "$sum" > "$stamp"
  fi
}

map_assets() {
  # Leaflet and its plugins, served by the app itself (see service/assets.py).
  if ! cmp -s package-lock.json node_modules/.package-lock.stamp 2>/dev/null; then
    say "installing map assets (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error || fail "installing the map assets (npm ci)"
    cp package-lock.json node_modules/.package-lock.stamp
  fi
}

setup() {
  system_packages "$1"
  python_env
  map_assets
  local database
  # An assignment, not an argument of say: a failure here must stop the script.
  database=$(.venv/bin/zones db start) || fail "starting the database (the error is above)"
  say "database: $database"
}

case "${1:-}" in
  run)
    setup run
    .venv/bin/zones demo || fail "loading the demo"
    # The worker keeps time beside the server (window edges, visits, lost signal); it stops
    # with the server.
    .venv/bin/zones worker &
    worker=$!
    trap 'kill "$worker" 2>/dev/null' EXIT INT TERM
    .venv/bin/zones serve --host "${ZONES_HOST:-127.0.0.1}" --port "${ZONES_PORT:-8000}"
    ;;
  test)
    setup test
    say "ruff"
    .venv/bin/ruff check . || fail "ruff check"
    .venv/bin/ruff format --check . || fail "ruff format --check"
    say "mypy"
    .venv/bin/mypy zones service || fail "mypy"
    say "pytest"
    shift
    exec .venv/bin/python -m pytest "$@"
    ;;
  *)
    echo "usage: ./dev.sh run | ./dev.sh test [pytest args]" >&2
    exit 2
    ;;
esac
