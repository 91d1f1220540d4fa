"""Equivalence check: the CLI's whole external contract, byte for byte, against a stored digest.

It proves that a change of the package's internals (moving modules, renaming private
functions) leaves every command's exit code, stdout and stderr and every file it writes
unchanged. It uses only the command line (``PYTHON -m lstm_exam ...`` in a subprocess with a
fixed environment and relative paths), never the package's internals, so the same script
runs on the old and the new code. The run folder is always ``/tmp/lstm-exam-equivalence/run``
(the cwd of every command; emptied first, removed after; one run at a time, by a lock):
some outputs hold absolute paths (``error: /tmp/lstm-exam-equivalence/run/classes/tiny:
folder is not empty``, the ``--templates`` folder in a manifest), so the folder is fixed.

    # record the digest from the original code (bench/equivalence.json, beside this script):
    # --repo is the tree whose examples/ and bench/ specs to use (default: this script's)
    /work/equiv-base/.venv/bin/python bench/equivalence.py \\
        --python /work/equiv-base/.venv/bin/python --repo /work/equiv-base --update
    # check the current tree against it: "N outputs identical", or what differs (exit 1)
    .venv/bin/python bench/equivalence.py
    # --keep DIR: the run folder (DIR/run) and every command's output (DIR/commands.txt)
    # --verbose: each command's time

What it runs: 76 commands writing about 3,400 files, 50 s on a quiet 2-core machine (about
95 s of CPU, most of it Python starting the CLI), up to 2 minutes beside other work.

* ``generate`` with fixed seeds, ``--no-pdf``: the built-in spec (``lstm-exam spec``, a seed
  added) for 150 numbered students, ``bench/with-network-kinds.toml`` and
  ``examples/all-kinds.toml`` for 120 each; with PDFs: the built-in spec for the bundled
  sample roster (no ``--roster``), and ``examples/all-kinds.toml`` for a roster of names
  LaTeX must escape or print in a CJK font (every kind's TeX, a Chinese name); a default
  output folder (no ``--out``), an existing folder with and without ``--force``.
* ``grade`` of every class from a folder and from a zip of the same files, made from the
  generated keys: all correct; one slip with the right method after it (error carried
  forward, in the forget gate and in C_t); forgot the bias (and classes counted from 0);
  the sign slip 1 - f_t; rounded to 2 places; ``;`` with decimal commas and a BOM; the empty
  template; a binary file, an .xlsx and a PDF renamed, an empty file; two files of one
  student (the latest wins); a Moodle folder (by full name, or by ``lms_id``), Canvas names
  (by login, by ``lms_id``, late), ``lastfirst_12345_67890_s001.csv`` with no such LMS id,
  unmatched files, system files; a copied sheet (two students, the same wrong answers);
  messy text (spaces, +, Unicode minus, scientific notation, NaN, inf, unknown and repeated
  labels), UTF-16, Latin-1, no header row; students with no file. Also the default
  ``--out`` and an existing results folder with and without ``--force``.
* ``solve``, plain, ``--json`` and ``--full``: without FILE, on each problem file in
  ``examples/`` and on two generated problem files (every kind); plain on each spec file in
  ``examples/`` (the error a user sees). ``spec``; ``render`` of the sample-roster class (its TeX and PDFs again); ``export`` to
  pytorch and keras (each four-gate kind, the default problem, the default ``--out``);
  ``templates``; ``demo --no-pdf``; and bad input (a bad value, an unknown kind, a short
  seed, a repeated and a refused student id, malformed and misshapen problem files, both
  ``--roster`` and ``--count``, a missing manifest, a non-zip, exports that cannot be made).
  ``--help`` texts are left out on purpose.

The digest (``bench/equivalence.json``) maps each name (``file: <path in the run folder>``,
``cmd: <arguments> [exit|stdout|stderr]``) to the sha256 of its bytes. Run twice, the
digest is the same: the environment is fixed (``TZ=UTC``, ``LC_ALL=C.UTF-8``,
``PYTHONHASHSEED=0``, ``SOURCE_DATE_EPOCH`` with ``FORCE_SOURCE_DATE=1``, which makes
pdflatex's PDFs byte-identical), submitted files get fixed modification times, zips are
written stored with fixed dates. Three things the program writes are not reproducible, and
are masked (same length, in place) before hashing, nothing else:

* ``"created":"<ISO time>"`` in each ``manifest.json`` (the wall clock, not settable);
* the ``/ID [<..><..>]`` that qpdf (pikepdf) writes into each per-student PDF it splits
  off: an MD5 of the current time until the split asked for qpdf's deterministic id (an
  MD5 of the content), still masked so that digests recorded before compare. PDFs are
  compared as bytes, not as text: the class PDFs pdflatex makes whole, the per-student
  ones all but those 70 characters (a PDF inside a zip, wholly);
* the absolute path of the bundled ``sample-submissions`` folder, which ``demo`` prints and
  puts in its ``results.json`` (it names where the package is installed).

An output that holds the repository's or the interpreter's path is reported as a warning:
the digest would depend on where the code is installed.
"""

from __future__ import annotations

import argparse
import csv
import fcntl
import hashlib
import io
import json
import math
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
DIGEST = HERE / "equivalence.json"
#: The run's folder, always the same: messages name some files by their absolute path.
BASE = Path("/tmp/lstm-exam-equivalence")
LOCK = Path("/tmp/lstm-exam-equivalence.lock")

#: Classes without PDFs: name -> (spec file in the repo or None for `lstm-exam spec`, count).
CLASSES = {
    "default": (None, 150),
    "network": ("bench/with-network-kinds.toml", 120),
    "all-kinds": ("examples/all-kinds.toml", 120),
}
SEED = "equivalence-{}-seed"
#: A roster whose names LaTeX must escape or print in a CJK font (as tests/data/render-roster.csv).
TRICKY_ROSTER = (
    "student_id,name,email\n"
    "zoe-1,Zoë O'Brien,zoe@example.edu\n"
    "amp-2,A & B_#1 {x} %,amp@example.edu\n"
    "inp-3,\\input{/etc/passwd},inp@example.edu\n"
    "math-4,$x^2$ ~ \\def\\x{1},=1+1\n"
    "jose-5,José Núñez,\n"
    "lukasz-6,Łukasz Żółć,\n"
    "li-7,李雷,\n"
)
EPOCH = 1_700_000_000  # fixed times: SOURCE_DATE_EPOCH and the submitted files' mtimes
ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "TZ": "UTC",
    "PYTHONHASHSEED": "0",
    "PYTHONIOENCODING": "utf-8",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONUNBUFFERED": "1",
    "SOURCE_DATE_EPOCH": str(EPOCH),
    "FORCE_SOURCE_DATE": "1",
    "COLUMNS": "100",
    "TERM": "dumb",
    "NO_COLOR": "1",
}

_CREATED = re.compile(rb'"created":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:[+-]\d\d:\d\d|Z)?"')
_QPDF_ID = re.compile(rb"/ID \[<[0-9a-f]{32}><[0-9a-f]{32}>\]")
_SAMPLES = re.compile(rb'/[^\s"\'()]*/(sample-submissions)')


def _mask(match: re.Match[bytes], keep: int = 0) -> bytes:
    text = match.group(0)
    return text[:keep] + b"#" * (len(text) - keep)


def normalize(name: str, data: bytes) -> bytes:
    """Mask the three outputs that are not reproducible (see the docstring), nothing else."""
    if name.endswith("manifest.json"):
        data = _CREATED.sub(lambda m: _mask(m, len(b'"created":')), data)
    if name.endswith(".pdf"):
        data = _QPDF_ID.sub(lambda m: _mask(m, len(b"/ID ")), data)
    return _SAMPLES.sub(rb"<bundled>/\1", data)


# --- running the CLI ---------------------------------------------------------------------


class Runner:
    """Runs ``PYTHON -m lstm_exam`` in the run folder and keeps every result's bytes."""

    def __init__(self, python: str, root: Path, env: dict[str, str], verbose: bool) -> None:
        self.python, self.root, self.env, self.verbose = python, root, env, verbose
        self.outputs: dict[str, bytes] = {}
        self.count = 0
        self.lock = threading.Lock()

    def __call__(self, *args: str, expect: int | None = 0) -> subprocess.CompletedProcess:
        label = " ".join(args)
        t0 = time.perf_counter()
        p = subprocess.run(
            [self.python, "-m", "lstm_exam", *args],
            cwd=self.root,
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=300,
            check=False,
        )
        if self.verbose:
            print(f"{time.perf_counter() - t0:6.2f} s  {label}", file=sys.stderr)
        if expect is not None and p.returncode != expect:
            sys.stderr.write(
                f"note: `lstm-exam {label}` exited {p.returncode} (expected {expect}):\n"
                + p.stderr.decode("utf-8", "replace")[-2000:]
            )
        with self.lock:
            name, n = f"cmd: {label}", 2
            while f"{name} [exit]" in self.outputs:  # again: numbered (repeats run in one job)
                name, n = f"cmd: {label} #{n}", n + 1
            self.outputs[f"{name} [exit]"] = str(p.returncode).encode()
            self.outputs[f"{name} [stdout]"] = p.stdout
            self.outputs[f"{name} [stderr]"] = p.stderr
            self.count += 1
        return p


class Jobs:
    """Commands side by side: each job a sequence of commands, which may queue more jobs."""

    def __init__(self, workers: int) -> None:
        self.pool = ThreadPoolExecutor(max_workers=workers)
        self.futures: list[Future[None]] = []
        self.lock = threading.Lock()

    def add(self, job: Callable[[], None]) -> None:
        with self.lock:
            self.futures.append(self.pool.submit(job))

    def wait(self) -> None:
        k = 0
        while True:
            with self.lock:
                if k == len(self.futures):
                    break
                future = self.futures[k]
            future.result()  # raises what the job raised
            k += 1
        self.pool.shutdown()


# --- submissions made from the keys --------------------------------------------------------


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def places(text: str) -> int:
    return len(text) - text.index(".") - 1 if "." in text else 0


def rnd(x: Decimal | float, n: int) -> str:
    """Half away from zero, as the key rounds."""
    d = Decimal(repr(x)) if isinstance(x, float) else x
    return format(d.quantize(Decimal(1).scaleb(-n), rounding=ROUND_HALF_UP), "f")


def sigmoid(a: str, n: int) -> str:
    return rnd(1 / (1 + math.exp(-float(a))), n)


def carried(ans: dict[str, str]) -> dict[str, str]:
    """A slip in a_f[2], then the right method on it (f_t[2] from the wrong a_f[2]); also a
    slip in the first fC[1] with C_t[1] = fC[1] + iC[1]: error carried forward."""
    ans = dict(ans)
    if "q1.a_f[2]" in ans and "q1.f_t[2]" in ans:
        a = format(Decimal(ans["q1.a_f[2]"]) + Decimal("0.1"), "f")
        ans["q1.a_f[2]"], ans["q1.f_t[2]"] = a, sigmoid(a, places(ans["q1.f_t[2]"]))
    else:
        first = next(iter(ans))
        ans[first] = format(Decimal(ans[first]) + Decimal("0.1"), "f")
    fc = next((k for k in ans if k.endswith(".fC[1]")), None)
    if fc is not None:
        q = fc[: -len("fC[1]")]
        if f"{q}iC[1]" in ans and f"{q}C_t[1]" in ans:
            ans[fc] = format(Decimal(ans[fc]) + Decimal("0.2"), "f")
            ans[f"{q}C_t[1]"] = format(Decimal(ans[fc]) + Decimal(ans[f"{q}iC[1]"]), "f")
    return ans


def no_bias(ans: dict[str, str]) -> dict[str, str]:
    """Forgot the bias in the forget gate (a_f = W_f·z, f_t = sigmoid of it); classes
    counted from 0 as argmax does."""
    ans = dict(ans)
    for k in [k for k in ans if k.startswith("q1.Wz_f[")]:
        cell = k[len("q1.Wz_f") :]
        if f"q1.a_f{cell}" in ans and f"q1.f_t{cell}" in ans:
            ans[f"q1.a_f{cell}"] = ans[k]
            ans[f"q1.f_t{cell}"] = sigmoid(ans[k], places(ans[f"q1.f_t{cell}"]))
    for k in [k for k in ans if k.endswith(".class[1]")]:
        ans[k] = str(int(ans[k]) - 1)
    return ans


def sign_slip(ans: dict[str, str]) -> dict[str, str]:
    """f_t = 1 - sigmoid(a_f) in the first problem."""
    return {
        k: format(1 - Decimal(v), "f") if k.startswith("q1.f_t[") else v for k, v in ans.items()
    }


def rounded2(ans: dict[str, str]) -> dict[str, str]:
    return {k: rnd(Decimal(v), 2) if "." in v else v for k, v in ans.items()}


def template_csv(key: list[dict[str, str]], ans: dict[str, str]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)  # CRLF, as a spreadsheet saves it
    w.writerow(["label", "description", "answer"])
    for row in key:
        w.writerow([row["label"], row["description"], ans.get(row["label"], "")])
    return buf.getvalue().encode("utf-8")


def european_csv(ans: dict[str, str]) -> bytes:
    lines = ["label;answer", *(f"{k};{v.replace('.', ',')}" for k, v in ans.items())]
    return b"\xef\xbb\xbf" + ("\r\n".join(lines) + "\r\n").encode("utf-8")


def messy_csv(ans: dict[str, str]) -> bytes:
    """Spaces, +, a Unicode minus, scientific notation, text, NaN, inf, an empty answer, an
    unknown and a repeated label."""
    rows = dict(ans)
    labels = list(rows)
    for k, lab in enumerate(labels[:5]):
        v = rows[lab]
        rows[lab] = [
            "  " + (v.replace("-", "\u2212") if v.startswith("-") else "+" + v) + " ",
            format(Decimal(v).scaleb(3), "f") + "e-3",
            "abc",
            "NaN",
            "inf",
        ][k]
    rows[labels[5]] = ""
    lines = ["LABEL , Answer", *(f"{k} , {a}" for k, a in rows.items())]
    lines.insert(3, "q9.f_t[1],0.5")
    lines.append(f"{labels[6]},0.999")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def latin1_csv(ans: dict[str, str]) -> bytes:
    text = "label,description,answer\r\n" + "".join(
        f"{k},Réponse é,{v}\r\n" for k, v in ans.items()
    )
    return text.encode("latin-1")


def utf16_csv(ans: dict[str, str]) -> bytes:
    text = "label\tdescription\tanswer\r\n" + "".join(f"{k}\tx\t{v}\r\n" for k, v in ans.items())
    return text.encode("utf-16")


def headless_csv(ans: dict[str, str]) -> bytes:
    return "".join(f"{k},{v}\n" for k, v in ans.items()).encode("utf-8")


BINARY = bytes(range(256)) * 8
XLSX = b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 200
PDF = b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"

Files = dict[str, tuple[bytes, int]]  # path -> (bytes, mtime)


def class_submissions(cls: Path) -> Files:
    """The edge cases for a class of numbered students (s001, ...; no LMS ids), one a student
    by position (``case``); from the 23rd on, in turn: no file, correct, correct, carried
    forward, no bias, correct. Then files that match nobody, and system files."""
    ids = sorted(p.stem for p in (cls / "keys").glob("*.csv"))
    files: Files = {}

    def put(path: str, data: bytes, k: int = 0) -> None:
        files[path] = (data, EPOCH + 60 * k)

    for k, sid in enumerate(ids):
        key = read_csv(cls / "keys" / f"{sid}.csv")
        ans = {r["label"]: r["answer"] for r in key}
        case = k if k < 22 else 22 + (k - 22) % 6
        if case in (0, 23, 24, 27):
            put(f"{sid}.csv", template_csv(key, ans), k)
        elif case in (1, 25):
            put(f"{sid}.csv", template_csv(key, carried(ans)), k)
        elif case in (2, 26):
            put(f"{sid}.csv", template_csv(key, no_bias(ans)), k)
        elif case == 3:
            put(f"{sid}.csv", template_csv(key, sign_slip(ans)), k)
        elif case == 4:
            put(f"{sid}.csv", template_csv(key, rounded2(ans)), k)
        elif case == 5:
            put(f"{sid}.csv", european_csv(ans), k)
        elif case == 6:
            put(f"{sid}.csv", (cls / "answer-templates" / f"{sid}.csv").read_bytes(), k)
        elif case == 7:
            put(f"{sid}.csv", BINARY, k)
        elif case == 8:  # two files: the older rounded early, the newer (graded) correct
            put(f"{sid}.csv", template_csv(key, rounded2(ans)), k)
            put(f"{sid.upper()}/answers.csv", template_csv(key, ans), k + 1000)
        elif case == 9:  # Moodle, matched by the full name
            put(
                f"Student {k + 1}_123_assignsubmission_file_/answers.csv", template_csv(key, ans), k
            )
        elif case == 10:  # Canvas, matched by the login
            put(f"{sid}_12345_67890_answers.csv", template_csv(key, carried(ans)), k)
        elif case == 11:
            put(f"{sid}_late_12346_67891_answers.csv", european_csv(ans), k)
        elif case == 12:  # a copied sheet: student 14 hands in 13's wrong answers
            wrong = template_csv(key, sign_slip(no_bias(ans)))
            put(f"{sid}.csv", wrong, k)
            put(f"{ids[k + 1]}.csv", wrong, k + 1)
        elif case == 14:
            put(f"{sid}.csv", messy_csv(ans), k)
        elif case == 15:
            put(f"{sid}.csv", utf16_csv(ans), k)
        elif case == 16:
            put(f"{sid}.csv", latin1_csv(rounded2(ans)), k)
        elif case == 17:
            put(f"{sid}.csv", headless_csv(ans), k)
        elif case == 18:
            put(f"{sid}.csv", XLSX, k)
        elif case == 19:
            put(f"{sid}.csv", PDF, k)
        elif case == 20:
            put(f"{sid}.csv", b"", k)
        elif case == 21:
            put(f"{sid}.csv", template_csv(key, sign_slip(carried(ans))), k)
        # 13 is the copy (above); 22 and 28, 34, ...: no file (missing)
    first = read_csv(cls / "keys" / f"{ids[0]}.csv")
    correct = template_csv(first, {r["label"]: r["answer"] for r in first})
    put("lastfirst_12345_67890_s001.csv", correct, 1)  # Canvas: no such LMS id, no login
    put("zz999.csv", correct, 2)  # an id not on the roster
    put("Nobody Known_777_assignsubmission_file_/answers.csv", correct, 3)
    put("notes.txt", b"handed in on paper\n", 4)
    put(".DS_Store", b"\x00\x00\x00\x01Bud1", 5)
    put("__MACOSX/._s001.csv", b"\x00\x05\x16\x07", 6)
    return files


def roster_submissions(cls: Path) -> Files:
    """The sample roster (s001-s006 with lms_id 1001-1006): the LMS layouts by LMS id."""
    keys = {p.stem: read_csv(p) for p in sorted((cls / "keys").glob("*.csv"))}
    ans = {sid: {r["label"]: r["answer"] for r in key} for sid, key in keys.items()}
    copied = template_csv(keys["s003"], no_bias(ans["s003"]))
    t = EPOCH
    return {
        "lovelaceada_1001_77001_s001.csv": (template_csv(keys["s001"], ans["s001"]), t),
        "Zoë O'Brien_1002_assignsubmission_file_/answers.csv": (
            template_csv(keys["s002"], carried(ans["s002"])),
            t + 60,
        ),
        "José Núñez_999_assignsubmission_file_/answers.csv": (copied, t + 120),
        "s004.csv": (template_csv(keys["s004"], rounded2(ans["s004"])), t + 180),
        "hoppergrace_late_1004_77004_answers.csv": (european_csv(ans["s004"]), t + 240),
        "s005.csv": (copied, t + 300),  # s005 hands in s003's answers
        "someoneelse_4242_77100_answers.csv": (template_csv(keys["s001"], ans["s001"]), t),
        ".DS_Store": (b"\x00\x00\x00\x01Bud1", t),
        # s006: nothing
    }


def write_submissions(files: Files, folder: Path, zip_path: Path) -> None:
    """The same files as a folder (with their mtimes) and as a zip (stored, fixed dates)."""
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_STORED) as z:
        for name, (data, mtime) in sorted(files.items()):
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            os.utime(path, (mtime, mtime))
            info = zipfile.ZipInfo(name, date_time=time.gmtime(mtime)[:6])
            info.create_system = 3
            info.external_attr = 0o644 << 16
            z.writestr(info, data)


# --- the run -------------------------------------------------------------------------------


def with_seed(text: str, seed: str) -> str:
    return f'seed = "{seed}"\n' + text


def prepare_inputs(run: Runner, repo: Path) -> dict[str, str]:
    """Spec copies with seeds, rosters and bad input under inputs/; returns the spec paths."""
    root = run.root
    (root / "inputs" / "examples").mkdir(parents=True)
    (root / "inputs" / "bench").mkdir()
    (root / "inputs" / "bad").mkdir()
    for f in sorted((repo / "examples").glob("*.toml")):
        shutil.copyfile(f, root / "inputs" / "examples" / f.name)
    default = run("spec").stdout.decode("utf-8")
    specs = {}
    for name, (src, _) in CLASSES.items():
        text = default if src is None else (repo / src).read_text("utf-8")
        rel = (
            "inputs/default.toml"
            if src is None
            else f"inputs/{src.split('/')[0]}/seeded-{name}.toml"
        )
        (root / rel).write_text(with_seed(text, SEED.format(name)), "utf-8")
        specs[name] = rel
    (root / "inputs" / "small.toml").write_text(with_seed(default, SEED.format("small")), "utf-8")
    (root / "inputs" / "tricky.csv").write_text(TRICKY_ROSTER, "utf-8")
    bad = root / "inputs" / "bad"
    (bad / "bad-value.toml").write_text(
        with_seed(default, "bad-value-seed")
        + '\n[[problems]]\nkind = "forget_gate"\nhidden = 50\n',
        "utf-8",
    )
    (bad / "unknown-kind.toml").write_text(
        'title = "x"\nseed = "unknown-kind-seed"\n\n[[problems]]\nkind = "peephole"\n', "utf-8"
    )
    (bad / "short-seed.toml").write_text(with_seed(default, "abc"), "utf-8")
    (bad / "repeated-id.csv").write_text(
        "student_id,name\ns001,Ada\ns002,Zoë\ns003,José\ns001,Grace\n", "utf-8"
    )
    (bad / "case-id.csv").write_text("student_id,name\nab1,Ada\nAB1,Zoë\n", "utf-8")
    (bad / "refused-id.csv").write_text("student_id,name\ns001,Ada\n../x,Eve\n", "utf-8")
    (bad / "malformed.toml").write_text('kind = "forget_gate"\nh_prev = [0.1, 0.2\n', "utf-8")
    (bad / "misshapen.toml").write_text(
        'kind = "forget_gate"\ndecimals = 3\nh_prev = [0.1, 1.0]\nx = [1.2, 0.2]\n'
        "W_f = [[0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.3, 0.4, 0.5]]\nb_f = [0.01, 0.05]\n",
        "utf-8",
    )
    (bad / "not-a-zip.zip").write_bytes(b"PK\x03\x04 not really a zip")
    (bad / "no-manifest").mkdir()
    return specs


def hash_tree(root: Path) -> dict[str, bytes]:
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            out[f"file: {path.relative_to(root).as_posix()}"] = path.read_bytes()
    return out


def execute(python: str, repo: Path, workers: int, verbose: bool) -> Runner:
    """Every command, in the fixed run folder (emptied first); the outputs, unmasked."""
    if BASE.exists():
        shutil.rmtree(BASE)
    root, home, tmp = BASE / "run", BASE / "home", BASE / "tmp"
    for d in (root, home, tmp):
        d.mkdir(parents=True)
    env = dict(ENV, HOME=str(home), TMPDIR=str(tmp))
    run = Runner(python, root, env, verbose)
    specs = prepare_inputs(run, repo)
    examples = sorted(p.name for p in (repo / "examples").glob("*.toml"))

    jobs = Jobs(workers)
    add = jobs.add

    def cmd(*args: str, expect: int | None = 0) -> Callable[[], None]:
        return lambda: run(*args, expect=expect)

    def count(name: str) -> tuple[str, ...]:
        return ("--count", str(CLASSES[name][1]), "--no-pdf")

    # each class: generate, then its grading (folder and zip), solving and exports
    def grade(name: str) -> None:
        cls = root / "classes" / name
        files = roster_submissions(cls) if name == "small" else class_submissions(cls)
        write_submissions(files, root / "submissions" / name, root / "submissions" / f"{name}.zip")
        for src, out in ((name, "folder"), (f"{name}.zip", "zip")):
            add(
                cmd(
                    "grade",
                    f"classes/{name}",
                    f"submissions/{src}",
                    "--out",
                    f"grades/{name}-{out}",
                )
            )

    def solve(problem: str) -> None:  # several problems a file
        for extra in ((), ("--json",), ("--full",)):
            add(cmd("solve", problem, *extra))

    def all_kinds() -> None:
        run("generate", specs["all-kinds"], *count("all-kinds"), "--out", "classes/all-kinds")
        grade("all-kinds")
        problem = "classes/all-kinds/problems/s001.toml"
        solve(problem)
        for fw in ("pytorch", "keras"):  # the four-gate kinds: problems 3 to 7
            for n in ("3", "4", "5", "6", "7"):
                add(cmd("export", problem, "--to", fw, "--problem", n, "--out", f"exports/{fw}"))
        add(cmd("export", problem, "--to", "pytorch", "--problem", "1", "--out", "bad/1", expect=2))
        add(cmd("export", problem, "--to", "keras", "--problem", "99", "--out", "bad/2", expect=2))

    def network() -> None:
        run("generate", specs["network"], *count("network"), "--out", "classes/network")
        grade("network")
        solve("classes/network/problems/s001.toml")
        add(cmd("export", "classes/network/problems/s001.toml", "--to", "pytorch"))  # to .

    def default() -> None:
        run("generate", specs["default"], *count("default"), "--out", "classes/default")
        grade("default")

    def tricky() -> None:  # with PDFs
        roster = ("--roster", "inputs/tricky.csv")
        run("generate", specs["all-kinds"], *roster, "--out", "classes/tricky")
        grade("tricky")

    def small() -> None:  # with PDFs, the sample roster; then render a copy
        run("generate", "inputs/small.toml", "--out", "classes/small")
        shutil.copytree(root / "classes" / "small", root / "render" / "small")
        grade("small")
        run("render", "render/small")

    def folders() -> None:  # in this order: the default folders, existing folders, --force
        tiny = (specs["default"], "--no-pdf", "--out", "classes/tiny")
        run("generate", specs["default"], "--count", "3", "--no-pdf")  # output/<slug>/
        run("generate", *tiny, "--count", "3")
        run("generate", *tiny, "--count", "4", expect=2)  # not empty, no --force
        run("generate", *tiny, "--count", "4", "--force")
        run("demo", "--no-pdf", "--out", "classes/tiny", expect=2)
        empty = ("classes/tiny", "inputs/bad/no-manifest")  # an empty folder: all missing
        run("grade", *empty)  # to classes/tiny/grades/
        run("grade", *empty, expect=2)  # exists, no --force
        run("grade", *empty, "--force")
        run("grade", "classes/tiny", "inputs/bad/not-a-zip.zip", "--out", "bad/13", expect=2)
        run("templates", "my-templates")
        run("templates", "my-templates", expect=2)
        templated = ("--no-pdf", "--templates", "my-templates", "--out", "classes/templated")
        run("generate", specs["default"], "--count", "2", *templated)

    for job in (all_kinds, tricky, network, small, default, folders):
        add(job)
    add(cmd("demo", "--no-pdf", "--out", "demo"))
    add(cmd("solve"))
    add(cmd("solve", "--json"))
    add(cmd("solve", "--full"))
    for f in examples:  # a problem file three ways; a spec file: the error a user sees
        problem = "title" not in (repo / "examples" / f).read_text("utf-8")
        for extra in ((), ("--json",), ("--full",)) if problem else ((),):
            add(cmd("solve", f"inputs/examples/{f}", *extra, expect=0 if problem else 2))
    b = "inputs/bad"
    for args in (
        ("generate", f"{b}/bad-value.toml", "--count", "2", "--out", "bad/3"),
        ("generate", f"{b}/unknown-kind.toml", "--count", "2", "--out", "bad/4"),
        ("generate", f"{b}/short-seed.toml", "--count", "2", "--out", "bad/5"),
        ("generate", "--roster", f"{b}/repeated-id.csv", "--no-pdf", "--out", "bad/6"),
        ("generate", "--roster", f"{b}/case-id.csv", "--no-pdf", "--out", "bad/7"),
        ("generate", "--roster", f"{b}/refused-id.csv", "--no-pdf", "--out", "bad/8"),
        ("generate", "--roster", f"{b}/repeated-id.csv", "--count", "3", "--out", "bad/9"),
        ("generate", "--count", "0", "--no-pdf", "--out", "bad/10"),
        ("generate", f"{b}/missing.toml", "--count", "2", "--out", "bad/11"),
        ("solve", f"{b}/malformed.toml"),
        ("solve", f"{b}/misshapen.toml"),
        ("solve", f"{b}/missing.toml"),
        ("render", f"{b}/no-manifest"),
        ("grade", f"{b}/no-manifest", f"{b}/no-manifest", "--out", "bad/12"),
        ("export", "inputs/examples/lecture-output-gate.toml", "--to", "pytorch"),
        ("export", f"{b}/malformed.toml", "--to", "keras", "--out", "bad/14"),
    ):
        add(cmd(*args, expect=2))
    jobs.wait()
    run.outputs |= hash_tree(root)
    return run


def compare(digest: dict[str, str]) -> int:
    stored = json.loads(DIGEST.read_text("utf-8"))
    differ = sorted(k for k in stored.keys() & digest.keys() if stored[k] != digest[k])
    missing = sorted(stored.keys() - digest.keys())
    new = sorted(digest.keys() - stored.keys())
    if not (differ or missing or new):
        print(f"{len(digest)} outputs identical")
        return 0
    for title, names in (("differ", differ), ("missing", missing), ("new", new)):
        if names:
            print(f"{len(names)} {title}:")
            for n in names:
                print(f"  {n}")
    same = len(stored.keys() & digest.keys()) - len(differ)
    print(
        f"{same} outputs identical, {len(differ) + len(missing) + len(new)} not (digest {DIGEST})"
    )
    return 1


def keep(run: Runner, folder: Path) -> None:
    """The run's folder and every command's output, to look at what differs."""
    shutil.copytree(run.root, folder / "run", symlinks=True)
    with open(folder / "commands.txt", "w", encoding="utf-8") as f:
        for name, data in sorted(run.outputs.items()):
            if name.startswith("cmd: "):
                f.write(f"=== {name}\n{data.decode('utf-8', 'replace')}\n")


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--python", default=sys.executable, help="interpreter with lstm_exam installed")
    ap.add_argument(
        "--repo",
        type=Path,
        default=HERE.parent,
        help="the tree whose examples/ and bench/ specs to use (default: this script's)",
    )
    ap.add_argument("--update", action="store_true", help=f"write the digest to {DIGEST.name}")
    ap.add_argument("--keep", type=Path, help="copy the run's folder and outputs here (new folder)")
    ap.add_argument("--jobs", type=int, default=2, help="commands run side by side (default 2)")
    ap.add_argument("--verbose", action="store_true", help="print each command's time")
    args = ap.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True)
    repo = args.repo.resolve()

    t0 = time.perf_counter()
    with open(LOCK, "w") as lock:  # one run at a time: the run folder is fixed
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            run = execute(args.python, repo, args.jobs, args.verbose)
            if args.keep:
                keep(run, args.keep)
        finally:
            shutil.rmtree(BASE, ignore_errors=True)
    elapsed = time.perf_counter() - t0

    digest = {}
    paths = {str(repo), str(Path(args.python).parent.parent), os.path.realpath(args.python)}
    for name, data in sorted(run.outputs.items()):
        data = normalize(name, data)
        for where in paths:
            if where.encode() in data:
                print(f"warning: {name} holds the path {where}", file=sys.stderr)
        digest[name] = hashlib.sha256(data).hexdigest()
    files = sum(1 for k in digest if k.startswith("file: "))
    print(f"{run.count} commands, {files} files: {len(digest)} outputs, in {elapsed:.1f} s")
    if args.update:
        DIGEST.write_text(json.dumps(digest, indent=1, sort_keys=True) + "\n", "utf-8")
        print(f"wrote {DIGEST}")
        return 0
    return compare(digest)


if __name__ == "__main__":
    sys.exit(main())
