#!/usr/bin/env bash
# Install Debian's chromium and chromium-driver when either is missing: the tests drive
# the practice pages (generator/quiz/practice.py) in a real headless browser with them.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  exit 0
fi
packages=()
command -v chromium >/dev/null 2>&1 || packages+=(chromium)
command -v chromedriver >/dev/null 2>&1 || packages+=(chromium-driver)
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "a headless browser is missing and this is no Debian system: install ${packages[*]} (chromium and its chromedriver); the practice-page tests fail without them" >&2
  exit 1
fi
echo "Installing from Debian's packages: ${packages[*]}" >&2
$SUDO apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
