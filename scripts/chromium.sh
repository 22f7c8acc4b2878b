#!/usr/bin/env bash
# Install Debian's Chromium (for the browser tests and the screenshots) if it is missing.
set -euo pipefail
if [[ ! -x /usr/bin/chromium ]]; then
  echo "installing Debian's chromium"
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
