"""Typesetting: the templates filled and pdflatex run, each a confined child process
within a limit of CPU time, their errors mapped to templates."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.errors import InputError
from lstm_exam.generator.render.document import DOCUMENTS, Rendered, render_tex
from lstm_exam.generator.render.latex import template_folder
from lstm_exam.generator.runtime import Stopped, confine_child, confined

if TYPE_CHECKING:
    from lstm_exam.generator.store.manifest import Manifest

#: The start of the note render_pdfs returns when TeX is missing.
TEX_MISSING = "pdflatex not found"


#: Debian's packages of TeX Live the PDFs need (as scripts/setup-tex.sh installs them): the
#: base, then Cyrillic, Greek, Vietnamese and Chinese, Japanese and Korean (render/scripts.py).
TEX_PACKAGES = (
    "texlive-latex-base texlive-latex-recommended texlive-pictures lmodern "
    "texlive-lang-cyrillic scalable-cyrfonts-tex texlive-fonts-recommended texlive-lang-greek "
    "texlive-lang-other latex-cjk-common latex-cjk-chinese-arphic-gbsn00lp "
    "latex-cjk-japanese-wadalab texlive-lang-korean"
)


class TexError(InputError):
    """pdflatex failed: names the template, the line and the relevant log lines."""


def tex_timeout(students: int) -> float:
    """The default time limit of typesetting a class, in seconds of CPU time:
    ``defaults.TEX_TIMEOUT``, and ``defaults.TEX_TIMEOUT_PER_STUDENT`` more for each
    student. The templates are filled within it, and each pdflatex runs within it."""
    return defaults.TEX_TIMEOUT + defaults.TEX_TIMEOUT_PER_STUDENT * students


def fill(
    manifest: Manifest,
    templates: Path | None,
    documents: Sequence[str] = tuple(DOCUMENTS),
    limit: float | None = None,
) -> Rendered:
    """:func:`render_tex` in a process of its own, bounded as pdflatex is: ``limit``
    seconds of CPU time (default :func:`tex_timeout`) and ``defaults.TEMPLATE_MEMORY``
    (and ``TEMPLATE_MEMORY_PER_STUDENT`` a student) of memory.

    Raises:
        InputError: a template's fault, or the templates ran past a limit: one line.
    """
    students = len(manifest.variants)
    limit = limit if limit is not None else tex_timeout(students)
    memory = defaults.TEMPLATE_MEMORY + defaults.TEMPLATE_MEMORY_PER_STUDENT * students
    try:
        return confined(partial(render_tex, manifest, templates, documents), limit, memory)
    except Stopped as e:
        fault = (
            f"the templates ran past their time limit ({limit:g} s of CPU time; a loop in a "
            "template?); raise it with --tex-timeout SECONDS"
            if e.why == "time"
            else "the templates could not be filled (the process filling them crashed)"
        )
        raise InputError(str(templates or template_folder()), "", fault) from None


def pdflatex() -> str | None:
    """The pdflatex program, or None when TeX is not installed."""
    return shutil.which("pdflatex")


def missing_note(skipped: str) -> str:
    """The note a PDF stage gives when TeX is missing: what it skipped, what to install."""
    return f"{TEX_MISSING}: {skipped}. Install TeX Live: sudo apt-get install {TEX_PACKAGES}"


def typeset(tex_file: Path, templates: Path | None, limit: float) -> Path:
    """One document typeset within ``limit`` seconds (confined, as every run is): its PDF.

    Raises:
        TexError: pdflatex failed, or ran past the limit (then it is killed).
    """
    proc = start_pdflatex(tex_file, limit)
    try:
        wait_any({tex_file.stem: proc}, backstop(limit))
        return finish_pdflatex(proc, tex_file, templates)
    finally:
        stop(proc)


def backstop(limit: float) -> float:
    """When (``time.monotonic()``) a run limited to ``limit`` seconds of CPU time is
    stopped anyway: ``defaults.WALL_FACTOR`` times as long in wall time, for a process
    that waits rather than works (a loaded machine slows a run, never stops it)."""
    return time.monotonic() + defaults.WALL_FACTOR * limit


def start_pdflatex(tex_file: Path, limit: float) -> subprocess.Popen:
    """Start pdflatex once on a file (no shell escape), in its folder, within ``limit``
    seconds of CPU time (SIGXCPU, then SIGKILL) and ``defaults.TEX_MEMORY``."""
    exe = pdflatex()
    if exe is None:
        raise FileNotFoundError("pdflatex")
    # paranoid: TeX reads and writes only in its own folder (and its installation's files)
    env = {**os.environ, "openin_any": "p", "openout_any": "p", "shell_escape": "f"}
    cmd = [
        exe,
        "-interaction=nonstopmode",
        "-halt-on-error",
        "-no-shell-escape",
        "-file-line-error",
        tex_file.name,
    ]
    # the log file holds everything: a pipe nobody reads would fill and stall TeX
    return subprocess.Popen(
        cmd,
        cwd=tex_file.parent,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: killed whole, never left behind
        # killed with a run that is killed, and past its CPU time or memory
        preexec_fn=confine_child(limit, defaults.TEX_MEMORY),
    )


def stop(proc: subprocess.Popen) -> None:
    """Kill a pdflatex run and whatever it started; wait for it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def finish_pdflatex(proc: subprocess.Popen, tex_file: Path, templates: Path | None) -> Path:
    """Wait for a started pdflatex; its PDF, or its error mapped to the templates."""
    proc.wait()
    if proc.returncode in (-signal.SIGXCPU, -signal.SIGKILL):  # its CPU time used up
        raise _past_limit(tex_file.stem)
    pdf = tex_file.with_suffix(".pdf")
    if proc.returncode != 0 or not pdf.exists():
        log = tex_file.with_suffix(".log")
        text = log.read_text("utf-8", errors="replace") if log.exists() else "no log written"
        raise _tex_error(tex_file, text, templates)
    return pdf


def _tex_error(tex_file: Path, log: str, templates: Path | None) -> TexError:
    lines = log.splitlines()
    idx = next(
        (k for k, ln in enumerate(lines) if ln.startswith("!") or re.match(r"^\S+:\d+: ", ln)), None
    )
    excerpt = lines[idx : idx + 4] if idx is not None else lines[-5:]
    m = re.search(r"^(\S+?):(\d+): |^l\.(\d+)", "\n".join(lines[idx or 0 :]), re.M)
    where = ""
    if m and m.group(1) and Path(m.group(1)).name != tex_file.name:
        where = f"{m.group(1)}: line {m.group(2)}"  # in a file a template read, not ours
    elif m:
        n = int(m.group(2) or m.group(3))
        src = tex_file.read_text("utf-8").splitlines()
        bad_line = src[n - 1] if 0 < n <= len(src) else ""
        where = _find_template_line(bad_line, templates)
    detail = " | ".join(s.strip() for s in excerpt if s.strip())
    kept = _kept(tex_file)
    shown = f"{kept}/{tex_file.name}" if kept else f"tex/{tex_file.name}"
    also = f" (the LaTeX and its log are in {kept}/)" if kept and where else ""
    return TexError(where or shown, "", f"LaTeX error: {detail}{also}")


def _kept(tex_file: Path) -> Path | None:
    """A copy of the failed LaTeX and its log that outlives the run (whose output folder
    is removed, all or nothing): a private folder in the temporary folder."""
    try:
        kept = Path(tempfile.mkdtemp(prefix="lstm-exam-tex-error-"))
        for f in (tex_file, tex_file.with_suffix(".log")):
            if f.exists():
                shutil.copyfile(f, kept / f.name)
    except OSError:
        return None
    return kept


def _find_template_line(tex_line: str, templates: Path | None) -> str:
    """The template line that most probably produced ``tex_line``."""
    tokens = set(re.findall(r"\\[A-Za-z]+|[A-Za-z]{4,}", tex_line))
    if not tokens:
        return ""
    best, best_score = "", 0
    folders = ([templates] if templates else []) + [template_folder()]
    for folder in folders:
        for path in sorted(folder.glob("*.j2")):
            for k, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
                score = sum(1 for t in tokens if t in line)
                if score > best_score:
                    best, best_score = f"{path}: line {k}", score
    return best


def wait_any(running: Mapping[str, subprocess.Popen], deadline: float) -> str:
    """Block until one of the running processes ends; its name.

    Raises:
        TexError: when none has ended by ``deadline`` (``time.monotonic()``, the
            backstop: each process's own limit is its CPU time).
    """
    while True:
        for name, p in running.items():
            try:
                p.wait(timeout=0.05)
                return name
            except subprocess.TimeoutExpired:
                continue
        if time.monotonic() > deadline:
            raise _past_limit(name)


def _past_limit(name: str) -> TexError:
    return TexError(
        f"tex/{name}.tex",
        "",
        "pdflatex ran past its time limit (a loop in a template?); "
        "raise it with --tex-timeout SECONDS",
    )
