#!/usr/bin/env bash
# The browser tests drive Debian's Chromium through playwright-core (no browser download: the
# registry's Chromium is the one used). Installs it when missing; we run as root on CI machines.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
echo "installing Debian chromium for the browser tests…"
SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
