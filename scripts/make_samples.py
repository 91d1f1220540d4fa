"""Make the bundled sample submissions of `lstm-exam demo` (run after changing the demo).

    .venv/bin/python scripts/make_samples.py

They are real files a student could send, made from the demo worksheet (the
default spec, the sample roster and the public demo seed):

* s001.csv  all correct (the key's answers, typed as a student would);
* s002.pdf  rounded every step to 2 decimals (misconception 7), typed into the sheet's PDF
            form and saved whole with appearance streams (as Preview or Acrobat's "Save as");
* s003.pdf  an arithmetic slip in a_f[2], then the right method on it (error carried forward),
            typed into the form and saved as an incremental update (as Acrobat Reader's and
            Firefox's "Save"), a decimal comma and a Unicode minus here and there;
* s004.csv  forgot the bias in the forget gate and took h_t = o_t * C_t (misconceptions 1 and 6),
            saved by a European spreadsheet: UTF-8 with BOM, ';' and decimal commas;
* s005.csv  an Excel workbook renamed to .csv (unreadable);
* s006      submitted nothing (missing).

The PDFs need pdflatex: the demo worksheet's sheets are typeset (with SOURCE_DATE_EPOCH, so
the same bytes come out again) and filled as viewers save them (tests/pdffill.py).
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.chains import Rounded
from lstm_exam.generator.core.evaluate import evaluate
from lstm_exam.generator.core.misconceptions import Misconception
from lstm_exam.generator.generate import build_manifest
from lstm_exam.generator.spec.roster import read_roster
from lstm_exam.generator.spec.worksheet import builtin_path, load_spec

OUT = Path(__file__).resolve().parent.parent / "generator" / "data" / "sample-submissions"
#: The CSVs of the students who hand in PDFs, for the test fixtures.
CSVS: dict[str, bytes] = {}


def answers(vp, ch=None, misconception=None, overrides=None) -> dict[str, Decimal]:
    """The asked answers of one problem, computed in a chain, rounded as the student reports."""
    p = vp.problem
    ch = ch or Rounded(p.decimals)
    vals = evaluate(p.kind, p.givens, ch, misconception=misconception, overrides=overrides)
    return {
        vp.label(lab): ch.rnd(
            Decimal(vals[lab]) if not isinstance(vals[lab], Decimal) else vals[lab]
        )
        for lab in vp.solution.asked
    }


def write_csv(path: Path | None, rows: dict[str, Decimal], *, european: bool = False) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";" if european else ",", lineterminator="\r\n")
    w.writerow(["label", "answer"] if european else ["Label", "Description", "Answer"])
    for label, v in rows.items():
        text = format(v, "f")
        if european:
            w.writerow([label, text.replace(".", ",")])
        else:
            w.writerow([label, "", text])
    data = buf.getvalue().encode("utf-8")
    data = b"\xef\xbb\xbf" + data if european else data
    if path is not None:
        path.write_bytes(data)
    return data


def write_workbook(v) -> None:
    """s005.csv, an Excel workbook (a zip with its own time stamps: kept when openpyxl
    is missing, as the one made before)."""
    try:
        import openpyxl
    except ImportError:
        if (OUT / "s005.csv").exists():
            print("openpyxl is missing: s005.csv kept as it was")
            return
        sys.exit("pip install openpyxl to make the renamed workbook s005.csv")
    wb = openpyxl.Workbook()
    sheet = wb.active
    sheet.append(["label", "answer"])
    for vp in v["s005"].problems:
        for k, val in answers(vp).items():
            sheet.append([k, float(val)])
    wb.save(OUT / "s005.csv")


def sheets(m) -> Path:
    """The demo worksheet's sheets, typeset reproducibly into a temporary folder."""
    from lstm_exam.generator.render.pdfs import render_pdfs

    os.environ.update(SOURCE_DATE_EPOCH="1767225600", FORCE_SOURCE_DATE="1")  # 2026-01-01
    folder = Path(tempfile.mkdtemp(prefix="samples-"))
    render_pdfs(m, folder)
    return folder / "sheets"


def write_pdf(path: Path, sheet: Path, rows: dict[str, str], how: str) -> None:
    sys.path.insert(0, str(TESTS.parent))  # tests/
    import pikepdf
    from pdffill import fill

    with pikepdf.open(sheet) as pdf:  # the split's /ID is of the time: one of the content
        clean = io.BytesIO()
        pdf.save(clean, deterministic_id=True)
    data = fill(clean.getvalue(), rows, how)
    # pypdf draws a new /ID at random: one of the content (the same length, so that no
    # offset moves)
    ids = re.compile(rb"(/ID \[ ?<)[0-9a-fA-F]{32}(> ?<)[0-9a-fA-F]{32}(> ?\])")
    zero = b"0" * 32
    digest = hashlib.md5(ids.sub(rb"\g<1>" + zero + rb"\g<2>" + zero + rb"\g<3>", data)).hexdigest()
    d = digest.encode()
    path.write_bytes(ids.sub(rb"\g<1>" + d + rb"\g<2>" + d + rb"\g<3>", data))


def main() -> None:
    ws = load_spec(None)
    students = read_roster(builtin_path("sample-roster.csv"))
    m, _, _ = build_manifest(ws, students, defaults.DEMO_SEED)
    OUT.mkdir(parents=True, exist_ok=True)
    v = {x.student.student_id: x for x in m.variants}

    write_csv(
        OUT / "s001.csv", {k: val for vp in v["s001"].problems for k, val in answers(vp).items()}
    )
    for old in ("s002.csv", "s003.csv"):  # handed in as PDFs since sheets are forms
        (OUT / old).unlink(missing_ok=True)
    pdfs = sheets(m)
    rows = {k: val for vp in v["s002"].problems for k, val in answers(vp, Rounded(2)).items()}
    CSVS["s002"] = write_csv(None, rows)
    write_pdf(
        OUT / "s002.pdf", pdfs / "s002.pdf", {k: format(x, "f") for k, x in rows.items()}, "pypdf"
    )
    rows = {}
    for vp in v["s003"].problems:
        if vp.number == 1:
            key = vp.solution.values["a_f[2]"].rounded
            rows |= answers(vp, overrides={"a_f[2]": key + Decimal("0.1")})
        else:
            rows |= answers(vp)
    CSVS["s003"] = write_csv(None, rows)
    typed = {}
    for n, (k, x) in enumerate(rows.items()):
        text = format(x, "f")
        if n % 3 == 1:
            text = text.replace(".", ",").replace("-", "\u2212")  # what a German keyboard types
        typed[k] = text
    write_pdf(OUT / "s003.pdf", pdfs / "s003.pdf", typed, "incremental")
    rows = {}
    for vp in v["s004"].problems:
        twist = {1: Misconception.NO_BIAS, 4: Misconception.H_NO_TANH}.get(vp.number)
        rows |= answers(vp, misconception=twist)
    write_csv(OUT / "s004.csv", rows, european=True)
    write_workbook(v)
    print(f"wrote {sorted(p.name for p in OUT.iterdir())} to {OUT}")
    make_test_fixtures(v)


TESTS = Path(__file__).resolve().parent.parent / "tests" / "data"


def make_test_fixtures(v) -> None:
    """Real files in the layouts LMSs produce, and the messy files students send."""
    import shutil
    import zipfile

    moodle = TESTS / "moodle"
    shutil.rmtree(moodle, ignore_errors=True)
    for sid, name, num in [("s001", "Ada Lovelace", 1001), ("s003", "José Núñez", 999)]:
        folder = moodle / f"{name}_{num}_assignsubmission_file_"
        folder.mkdir(parents=True)
        (folder / "answers.csv").write_bytes(CSVS.get(sid) or (OUT / f"{sid}.csv").read_bytes())
    (moodle / "__MACOSX").mkdir()
    (moodle / "__MACOSX" / "._answers.csv").write_bytes(b"\x00\x05\x16\x07")
    with zipfile.ZipFile(TESTS / "canvas.zip", "w") as z:
        z.write(OUT / "s001.csv", "lovelaceada_1001_77001_answers.csv")
        z.write(OUT / "s004.csv", "hoppergrace_late_1004_77004_answers.csv")
        z.write(OUT / "s005.csv", "turingalan_1005_77005_answers.csv")
        z.writestr("someoneelse_4242_77100_answers.csv", CSVS["s002"])
        z.writestr(".DS_Store", b"\x00\x00\x00\x01Bud1")
    # s001's answers, messy: CRLF, spaces, +, scientific notation, an unknown and a repeated
    # label, text, NaN, inf and an empty answer
    rows = {k: format(val, "f") for vp in v["s001"].problems for k, val in answers(vp).items()}
    labels = list(rows)
    first = rows[labels[0]]
    rows[labels[0]] = (
        "  " + (first.replace("-", "\u2212") if first.startswith("-") else "+" + first) + " "
    )
    rows[labels[1]] = format(Decimal(rows[labels[1]]).scaleb(3), "f") + "e-3"
    rows[labels[2]] = "abc"
    rows[labels[3]] = "NaN"
    rows[labels[4]] = "inf"
    rows[labels[5]] = ""
    lines = ["LABEL , Answer"] + [f"{k} , {a}" for k, a in rows.items()]
    lines.insert(3, "q9.f_t[1],0.5")
    lines.append(f"{labels[6]},0.999")
    (TESTS / "messy-s001.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    latin = "label,description,answer\r\n" + "".join(
        f"{k},Réponse é,{a}\r\n"
        for k, a in (
            (k, format(val, "f")) for vp in v["s001"].problems for k, val in answers(vp).items()
        )
    )
    (TESTS / "latin1-s001.csv").write_bytes(latin.encode("latin-1"))
    (TESTS / "utf16-s001.csv").write_bytes(latin.replace(",", "\t").encode("utf-16"))
    print(f"wrote the test fixtures to {TESTS}")


if __name__ == "__main__":
    main()
