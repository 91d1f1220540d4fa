#!/usr/bin/env bash
# Install TeX Live from Debian's packages when pdflatex, or a package or font the PDFs use,
# is missing: the base (LaTeX, Latin Modern, TikZ, poppler's pdftotext) and what prints
# names, titles and courses in other scripts (docs/formats.md, "Names in every script").
set -euo pipefail
# one file of each package below: TeX is complete when kpsewhich finds them all
files=(lmodern.sty tikz.sty
       t2aenc.def t2aftm.fd psyr.tfm       # Cyrillic: T2A, its scalable fonts (and Symbol)
       lgrenc.def lgrlmr.fd                # Greek: LGR, Latin Modern's Greek (CB fonts)
       t5enc.def                           # Vietnamese: T5 (vntex)
       CJKutf8.sty c70gbsn.fd c70min.fd c70nanummj.fd)  # Chinese, Japanese, Korean
complete() {
  command -v pdflatex >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1 || return 1
  local found
  found=$(kpsewhich "${files[@]}" 2>/dev/null | wc -l) || true
  [ "$found" -eq "${#files[@]}" ]
}
if complete; then
  exit 0
fi
packages=(texlive-latex-base texlive-latex-recommended texlive-pictures lmodern poppler-utils
          texlive-lang-cyrillic scalable-cyrfonts-tex texlive-fonts-recommended
          texlive-lang-greek
          texlive-lang-other
          latex-cjk-common latex-cjk-chinese-arphic-gbsn00lp latex-cjk-japanese-wadalab
          texlive-lang-korean)
if ! command -v apt-get >/dev/null 2>&1; then
  echo "TeX Live is missing or incomplete and this is no Debian system: install ${packages[*]}" \
       "(or your system's TeX Live with lmodern, pgf/TikZ, cyrillic, greek-fontenc, cbfonts," \
       "vntex, CJK with the Arphic gbsn, Wadalab min and Nanum fonts)" >&2
  exit 1
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "TeX Live's packages are installed, yet kpsewhich misses one of: ${files[*]}" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "Installing TeX Live from Debian's packages: ${missing[*]}" >&2
$SUDO apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
if ! complete; then
  echo "TeX Live is installed, yet kpsewhich misses one of: ${files[*]}" >&2
  exit 1
fi
