#!/usr/bin/env bash
# Installs the system pieces the local stack runs on: Mosquitto, Kannel, PostgreSQL 15 with
# TimescaleDB (built from Debian's source package on bookworm, packaged on trixie),
# Maven for resolving Apache Kafka, npm for the page's Leaflet. Idempotent: every step checks before acting.
set -euo pipefail

PG_MAJOR="${VIGIA_PG_MAJOR:-15}"
PG_CONFIG="/usr/lib/postgresql/${PG_MAJOR}/bin/pg_config"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

log() { printf '[install] %s\n' "$*"; }

apt_updated=0
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$apt_updated" -eq 0 ]; then
    log "apt-get update"
    $SUDO apt-get update -qq
    apt_updated=1
  fi
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

apt_install mosquitto mosquitto-clients "postgresql-${PG_MAJOR}" "postgresql-client-${PG_MAJOR}" \
  maven default-jre-headless python3-venv ca-certificates kcat
# Kannel, the SMS gateway (bearerbox and smsbox).
apt_install kannel
# Headless Chromium: the web page's browser test.
apt_install chromium fonts-dejavu-core
# npm, for the page's Leaflet (api/web/package.json); a Node.js that brings its own npm will do.
command -v npm >/dev/null 2>&1 || apt_install nodejs npm
# The lint of the deployment scripts.
apt_install shellcheck
# The load generator of `make bench-api`, in C so it is not what the benchmark measures.
apt_install wrk
# mosquitto's package starts a system broker on 1883; the project runs its own.
# So does kannel's, on 13000 and 13013.
for unit in mosquitto kannel; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$unit" 2>/dev/null; then
    $SUDO systemctl stop "$unit" || true
  fi
done

timescale_installed() {
  local libdir
  libdir="$("$PG_CONFIG" --pkglibdir)"
  ls "$libdir"/timescaledb*.so >/dev/null 2>&1 \
    && ls "$("$PG_CONFIG" --sharedir)"/extension/timescaledb.control >/dev/null 2>&1
}

if timescale_installed; then
  log "timescaledb already installed for PostgreSQL ${PG_MAJOR}"
else
  pkg="postgresql-${PG_MAJOR}-timescaledb"
  if apt-cache show "$pkg" >/dev/null 2>&1; then
    apt_install "$pkg"
  else
    log "no $pkg package here: building timescaledb from Debian's source package"
    apt_install "postgresql-server-dev-${PG_MAJOR}" cmake build-essential libssl-dev dpkg-dev
    src_list=/etc/apt/sources.list.d/vigia-timescaledb-src.list
    if [ ! -f "$src_list" ]; then
      echo "deb-src http://deb.debian.org/debian trixie main" | $SUDO tee "$src_list" >/dev/null
      $SUDO apt-get update -qq
    fi
    build_dir="$(mktemp -d)"
    (
      cd "$build_dir"
      apt-get source --download-only -qq timescaledb
      tar xf timescaledb_*.orig.tar.*
      cd "$(find . -maxdepth 1 -type d -name 'timescaledb-*' | head -n 1)"
      ./bootstrap -DAPACHE_ONLY=1 -DREGRESS_CHECKS=OFF -DTAP_CHECKS=OFF \
        -DWARNINGS_AS_ERRORS=OFF -DPG_CONFIG="$PG_CONFIG" >/dev/null
      cd build
      make -j"$(nproc)" >/dev/null
      $SUDO make install >/dev/null
    )
    rm -rf "$build_dir"
    timescale_installed || { log "timescaledb build did not install"; exit 1; }
    log "timescaledb built and installed"
  fi
fi
log "system packages ready"
