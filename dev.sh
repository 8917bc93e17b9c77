#!/usr/bin/env bash
# The newcomer's two commands:
#   ./dev.sh run    install what is missing, start the private PostGIS, migrate, load the demo,
#                   serve at http://127.0.0.1:8000
#   ./dev.sh test   the same set-up, then lint, type checks and the whole test suite
# Set ZONES_DATABASE_URL to use another PostGIS instead of the private cluster.
set -euo pipefail
cd "$(dirname "$0")"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

system_packages() {
  local want=() mode=$1
  command -v python3 >/dev/null || want+=(python3)
  python3 -c 'import venv, ensurepip' 2>/dev/null || want+=(python3-venv)
  command -v npm >/dev/null || want+=(nodejs npm)
  if [ -z "${ZONES_DATABASE_URL:-}" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    want+=(postgresql)
  fi
  [ "$mode" = test ] && { [ -x /usr/bin/chromium ] || want+=(chromium); }
  if [ ${#want[@]} -gt 0 ]; then
    say "installing system packages: ${want[*]}"
    as_root apt-get update -q
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q "${want[@]}"
  fi
  # PostGIS for the newest PostgreSQL server present (the private cluster uses that one).
  if [ -z "${ZONES_DATABASE_URL:-}" ]; then
    local major
    major=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
    if [ ! -f "/usr/share/postgresql/$major/extension/postgis.control" ]; then
      say "installing PostGIS for PostgreSQL $major"
      as_root apt-get update -q
      DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q "postgresql-$major-postgis-3"
    fi
  fi
}

python_env() {
  local stamp=.venv/.installed sum
  sum=$(sha256sum pyproject.toml | cut -d' ' -f1)
  [ -x .venv/bin/python ] || { say "creating .venv"; python3 -m venv .venv; }
  if [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ]; then
    say "installing Python dependencies into .venv"
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e '.[dev]'
    echo "$sum" > "$stamp"
  fi
}

map_assets() {
  # Leaflet and its plugins, served by the app itself (see service/assets.py).
  if ! cmp -s package-lock.json node_modules/.package-lock.stamp 2>/dev/null; then
    say "installing map assets (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error
    cp package-lock.json node_modules/.package-lock.stamp
  fi
}

setup() {
  system_packages "$1"
  python_env
  map_assets
  say "database: $(.venv/bin/zones db start)"
}

case "${1:-}" in
  run)
    setup run
    .venv/bin/zones demo
    exec .venv/bin/zones serve --host "${ZONES_HOST:-127.0.0.1}" --port "${ZONES_PORT:-8000}"
    ;;
  test)
    setup test
    say "ruff"
    .venv/bin/ruff check .
    .venv/bin/ruff format --check .
    say "mypy"
    .venv/bin/mypy zones service
    say "pytest"
    shift
    exec .venv/bin/python -m pytest "$@"
    ;;
  *)
    echo "usage: ./dev.sh run | ./dev.sh test [pytest args]" >&2
    exit 2
    ;;
esac
