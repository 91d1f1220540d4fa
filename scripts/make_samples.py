"""Make the bundled sample submissions of `lstm-exam demo` (run after changing the demo).

    .venv/bin/python scripts/make_samples.py

They are real files a student could send, made from the demo worksheet (the
default spec, the sample roster and the public demo seed):

* s001.csv  all correct (the key's answers, typed as a student would);
* s002.csv  rounded every step to 2 decimals (misconception 7);
* s003.csv  an arithmetic slip in a_f[2], then the right method on it (error carried forward);
* s004.csv  forgot the bias in the forget gate and took h_t = o_t * C_t (misconceptions 1 and 6),
            saved by a European spreadsheet: UTF-8 with BOM, ';' and decimal commas;
* s005.csv  an Excel workbook renamed to .csv (unreadable);
* s006      submitted nothing (missing).
"""

from __future__ import annotations

import csv
import io
import sys
from decimal import Decimal
from pathlib import Path

from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.chains import Rounded
from lstm_exam.generator.core.evaluate import evaluate
from lstm_exam.generator.core.misconceptions import Twist
from lstm_exam.generator.generate import build_manifest
from lstm_exam.generator.spec.roster import read_roster
from lstm_exam.generator.spec.worksheet import builtin_path, load_spec

OUT = Path(__file__).resolve().parent.parent / "generator" / "data" / "sample-submissions"


def answers(vp, ch=None, twist=None, overrides=None) -> dict[str, Decimal]:
    """The asked answers of one problem, computed in a chain, rounded as the student reports."""
    p = vp.problem
    ch = ch or Rounded(p.decimals)
    vals = evaluate(p.kind, p.givens, ch, twist=twist, overrides=overrides)
    return {
        vp.label(lab): ch.rnd(
            Decimal(vals[lab]) if not isinstance(vals[lab], Decimal) else vals[lab]
        )
        for lab in vp.solution.asked
    }


def write_csv(path: Path, rows: dict[str, Decimal], *, european: bool = False) -> None:
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
    path.write_bytes(b"\xef\xbb\xbf" + data if european else data)


def main() -> None:
    ws = load_spec(None)
    students = read_roster(builtin_path("sample-roster.csv"))
    m, _, _ = build_manifest(ws, students, defaults.DEMO_SEED)
    OUT.mkdir(parents=True, exist_ok=True)
    v = {x.student.student_id: x for x in m.variants}

    write_csv(
        OUT / "s001.csv", {k: val for vp in v["s001"].problems for k, val in answers(vp).items()}
    )
    write_csv(
        OUT / "s002.csv",
        {k: val for vp in v["s002"].problems for k, val in answers(vp, Rounded(2)).items()},
    )
    rows = {}
    for vp in v["s003"].problems:
        if vp.number == 1:
            key = vp.solution.values["a_f[2]"].rounded
            rows |= answers(vp, overrides={"a_f[2]": key + Decimal("0.1")})
        else:
            rows |= answers(vp)
    write_csv(OUT / "s003.csv", rows)
    rows = {}
    for vp in v["s004"].problems:
        twist = {1: Twist.NO_BIAS, 4: Twist.H_NO_TANH}.get(vp.number)
        rows |= answers(vp, twist=twist)
    write_csv(OUT / "s004.csv", rows, european=True)
    try:
        import openpyxl
    except ImportError:
        sys.exit("pip install openpyxl to make the renamed workbook s005.csv")
    wb = openpyxl.Workbook()
    sheet = wb.active
    sheet.append(["label", "answer"])
    for vp in v["s005"].problems:
        for k, val in answers(vp).items():
            sheet.append([k, float(val)])
    wb.save(OUT / "s005.csv")
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
        shutil.copy(OUT / f"{sid}.csv", folder / "answers.csv")
    (moodle / "__MACOSX").mkdir()
    (moodle / "__MACOSX" / "._answers.csv").write_bytes(b"\x00\x05\x16\x07")
    with zipfile.ZipFile(TESTS / "canvas.zip", "w") as z:
        z.write(OUT / "s001.csv", "lovelaceada_1001_77001_answers.csv")
        z.write(OUT / "s004.csv", "hoppergrace_late_1004_77004_answers.csv")
        z.write(OUT / "s005.csv", "turingalan_1005_77005_answers.csv")
        z.writestr("someoneelse_4242_77100_answers.csv", (OUT / "s002.csv").read_bytes())
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
