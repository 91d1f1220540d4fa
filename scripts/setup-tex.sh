#!/usr/bin/env bash
# Install TeX Live from Debian's packages when pdflatex is missing.
set -euo pipefail
if command -v pdflatex >/dev/null 2>&1 && kpsewhich lmodern.sty tikz.sty >/dev/null 2>&1; then
  exit 0
fi
packages=(texlive-latex-base texlive-latex-recommended texlive-pictures
          lmodern poppler-utils)
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "TeX Live is missing and this is no Debian system: install ${packages[*]} (or your system's TeX Live with lmodern and pgf/TikZ)" >&2
  exit 1
fi
echo "Installing TeX Live from Debian's packages: ${packages[*]}" >&2
$SUDO apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
