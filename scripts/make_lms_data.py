"""Regenerate tests/data/lms/: real-format Moodle and Canvas files for one class of hard names.

    python scripts/make_lms_data.py          # rewrite the files
    python scripts/make_lms_data.py --check  # exit 1 if any file would change

Every file is built by the re-implementations in tests/lms/ (which cite the Moodle and
Canvas sources they follow), from the class defined here; the output is deterministic (fixed
zip dates, fixed order). ``expected.json`` records, for every zip member and worksheet row,
the roster student it belongs to: the ground truth a matcher is tested against.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import lms  # noqa: E402

OUT = ROOT / "tests" / "data" / "lms"


@dataclass(frozen=True)
class Person:
    student_id: str
    roster_name: str  # as the instructor's roster writes it
    first: str  # Moodle firstname
    last: str  # Moodle lastname
    email: str
    moodle_userid: int
    participant: int  # the assignment's assign_user_mapping id (shuffled, not the user id)
    canvas_id: int
    canvas_name: str
    canvas_sortable: str
    sis_id: str
    files: tuple[str, ...] = ("answers.csv",)
    late: bool = False


P = Person
CLASS = [
    P(
        "s001",
        "Seán O'Brien",
        "Seán",
        "O'Brien",
        "sean.obrien@example.edu",
        201,
        73015,
        5001,
        "Seán O'Brien",
        "O'Brien, Seán",
        "SIS001",
    ),
    P(
        "s002",
        "Siobhán O'Connor",
        "Siobhán",
        "O'Connor",
        "siobhan.oconnor@example.edu",
        202,
        73002,
        5002,
        "Siobhán O'Connor",
        "O'Connor, Siobhán",
        "SIS002",
        late=True,
    ),
    P(
        "s003",
        "王小明",
        "小明",
        "王",
        "xiaoming.wang@example.edu",
        203,
        73020,
        5003,
        "王小明",
        "王小明",
        "SIS003",
    ),
    P(
        "s004",
        "Иван Петров",
        "Иван",
        "Петров",
        "ivan.petrov@example.edu",
        204,
        73007,
        5004,
        "Иван Петров",
        "Петров, Иван",
        "SIS004",
    ),
    P(
        "s005",
        "Νίκος Παπαδόπουλος",
        "Νίκος",
        "Παπαδόπουλος",
        "nikos.p@example.edu",
        205,
        73011,
        5005,
        "Νίκος Παπαδόπουλος",
        "Παπαδόπουλος, Νίκος",
        "SIS005",
    ),
    P(
        "s006",
        "محمد علي",
        "محمد",
        "علي",
        "mohammed.ali@example.edu",
        206,
        73024,
        5006,
        "محمد علي",
        "علي, محمد",
        "SIS006",
    ),
    P(
        "s007",
        "Müller, Hans-Peter",
        "Hans-Peter",
        "Müller",
        "hp.mueller@example.edu",
        207,
        73003,
        5007,
        "Hans-Peter Müller",
        "Müller, Hans-Peter",
        "SIS007",
        files=("Übung 5.csv",),
    ),
    P(
        "s008",
        "Anna_Lena Schmidt",
        "Anna_Lena",
        "Schmidt",
        "annalena.schmidt@example.edu",
        208,
        73018,
        5008,
        "Anna_Lena Schmidt",
        "Schmidt, Anna_Lena",
        "SIS008",
        files=("my_answers_v2.csv",),
    ),
    P(
        "s009",
        "Maria Garcia",
        "Maria",
        "Garcia",
        "maria.garcia1@example.edu",
        209,
        73009,
        5009,
        "Maria Garcia",
        "Garcia, Maria",
        "SIS009",
    ),
    P(
        "s010",
        "Maria Garcia",
        "Maria",
        "Garcia",
        "maria.garcia2@example.edu",
        210,
        73021,
        5010,
        "Maria Garcia",
        "Garcia, Maria",
        "SIS010",
    ),
    P(
        "s011",
        "José Núñez",
        "José",
        "Núñez",
        "jose.nunez@example.edu",
        211,
        73001,
        5011,
        "José Núñez",
        "Núñez, José",
        "SIS011",
    ),
    P(
        "s012",
        "François Lefèvre",
        "François",
        "Lefèvre",
        "f.lefevre@example.edu",
        212,
        73016,
        5012,
        "François Lefèvre",
        "Lefèvre, François",
        "SIS012",
        files=("answers (1).csv",),
    ),
    P(
        "s013",
        "Zoë Brontë",
        "Zoë",
        "Brontë",
        "zoe.bronte@example.edu",
        213,
        73005,
        5013,
        "Zoë Brontë",
        "Brontë, Zoë",
        "SIS013",
    ),
    P(
        "s014",
        "Åsa Øberg",
        "Åsa",
        "Øberg",
        "asa.oberg@example.edu",
        214,
        73022,
        5014,
        "Åsa Øberg",
        "Øberg, Åsa",
        "SIS014",
    ),
    P(
        "s015",
        "Nguyễn Thị Minh Khai",
        "Thị Minh Khai",
        "Nguyễn",
        "minhkhai@example.edu",
        215,
        73010,
        5015,
        "Nguyễn Thị Minh Khai",
        "Nguyễn, Thị Minh Khai",
        "SIS015",
    ),
    P(
        "s016",
        "Ada Lovelace",
        "Ada",
        "Lovelace",
        "ada@example.edu",
        216,
        73004,
        5016,
        "Ada Lovelace",
        "Lovelace, Ada",
        "SIS016",
        files=("answers.csv", "answers-final.csv"),
    ),
    P(
        "s017",
        "Jean-Luc Picard",
        "Jean-Luc",
        "Picard",
        "jl.picard@example.edu",
        217,
        73019,
        5017,
        "Jean-Luc Picard",
        "Picard, Jean-Luc",
        "SIS017",
        late=True,
    ),
    P(
        "s018",
        'D\'Arcy "Dee" Smith',
        'D\'Arcy "Dee"',
        "Smith",
        "darcy.smith@example.edu",
        218,
        73006,
        5018,
        'D\'Arcy "Dee" Smith',
        'Smith, D\'Arcy "Dee"',
        "SIS018",
    ),
    P(
        "s019",
        "Şule Yılmaz",
        "Şule",
        "Yılmaz",
        "sule.yilmaz@example.edu",
        219,
        73023,
        5019,
        "Şule Yılmaz",
        "Yılmaz, Şule",
        "SIS019",
    ),
    P(
        "s020",
        "Björk Guðmundsdóttir",
        "Björk",
        "Guðmundsdóttir",
        "bjork@example.edu",
        220,
        73008,
        5020,
        "Björk Guðmundsdóttir",
        "Guðmundsdóttir, Björk",
        "SIS020",
    ),
    P(
        "s021",
        "佐藤 花子",
        "花子",
        "佐藤",
        "hanako.sato@example.edu",
        221,
        73013,
        5021,
        "佐藤 花子",
        "佐藤, 花子",
        "SIS021",
    ),
    P(
        "s022",
        "Ellie O’Neil",
        "Ellie",
        "O’Neil",
        "ellie.oneil@example.edu",
        222,
        73017,
        5022,
        "Ellie O’Neil",
        "O’Neil, Ellie",
        "SIS022",
    ),
    P(
        "s023",
        "Tom & Jerry Fields",
        "Tom & Jerry",
        "Fields",
        "tj.fields@example.edu",
        223,
        73012,
        5023,
        "Tom & Jerry Fields",
        "Fields, Tom & Jerry",
        "SIS023",
    ),
    P(
        "s024",
        "John_3 Doe",
        "John_3",
        "Doe",
        "john3.doe@example.edu",
        224,
        73014,
        5024,
        "John_3 Doe",
        "Doe, John_3",
        "SIS024",
    ),
    P(
        "s025",
        "Li Na",
        "Na",
        "Li",
        "na.li@example.edu",
        225,
        73025,
        5025,
        "Li Na",
        "Li, Na",
        "SIS025",
        files=(),
    ),
]

MAX_GRADE = 10.0
ASSIGNMENT = lms.CanvasAssignment(88001, "Week 5: LSTM gates", 10.0)
EARLIER = lms.CanvasAssignment(88000, "Week 4: RNNs", 5.0)
SUBMITTED = 1772446500  # 2026-03-02 10:15 UTC, a fixed date for every "Last modified"


def moodle_user(p: Person) -> lms.MoodleUser:
    return lms.MoodleUser(
        p.moodle_userid,
        p.first,
        p.last,
        p.email,
        p.participant,
        username=p.student_id,
        idnumber=p.student_id,
    )


def canvas_student(p: Person) -> lms.CanvasStudent:
    return lms.CanvasStudent(
        p.canvas_id, p.canvas_name, p.canvas_sortable, p.sis_id, p.student_id, "LSTM 101 Section A"
    )


def sheet(p: Person, k: int) -> bytes:
    """A small submission: the answer template's two columns, one value."""
    return f"label,answer\r\nq1.f_t[1],0.{k + 1:03d}\r\n".encode()


def canvas_submissions() -> list[lms.CanvasSubmission]:
    """Every student's Canvas submission (attachment ids from 910001 on, in class order)."""
    subs = []
    fid = 910000
    for i, p in enumerate(CLASS):
        if not p.files:
            continue
        cf = []
        for f in p.files:
            fid += 1
            cf.append(lms.CanvasFile(fid, f, sheet(p, i)))
        subs.append(lms.CanvasSubmission(canvas_student(p), tuple(cf), late=p.late))
    return subs


def build() -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    expected: dict[str, dict[str, str]] = {}

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["student_id", "name", "email", "moodle_id", "canvas_id"])
    for p in CLASS:
        w.writerow([p.student_id, p.roster_name, p.email, p.moodle_userid, p.canvas_id])
    files["roster.csv"] = buf.getvalue().encode()

    users = [moodle_user(p) for p in CLASS]
    by_userid = {p.moodle_userid: p for p in CLASS}
    moodle_files = {
        p.moodle_userid: [(f, sheet(p, i)) for f in p.files] for i, p in enumerate(CLASS)
    }
    variants = {
        "moodle-folders.zip": {"layout": "folders", "version": (4, 1)},
        "moodle-folders-pre41.zip": {"layout": "folders", "version": (4, 0)},
        "moodle-flat.zip": {"layout": "flat"},
        "moodle-blind.zip": {"layout": "folders", "blind": True, "version": (4, 1)},
    }
    for name, opts in variants.items():
        files[name] = lms.moodle_submission_zip(users, moodle_files, **opts)  # type: ignore[arg-type]
        expected[name] = {
            lms.moodle_submission_member(u, f, **opts): by_userid[u.userid].student_id  # type: ignore[arg-type]
            for u in users
            for f, _ in moodle_files[u.userid]
        }

    rows = []
    for i, (p, u) in enumerate(zip(CLASS, users, strict=True)):
        if not p.files:
            rows.append(lms.WorksheetRow(u, status="No submission", maxgrade="10.00"))
            continue
        graded = i % 3 == 0
        rows.append(
            lms.WorksheetRow(
                u,
                status="Submitted for grading",
                grade=f"{(i % 10) + 0.5:.2f}" if graded else "",
                submitted=SUBMITTED,
                graded=SUBMITTED + 3600 if graded else None,
                feedback="Well done" if graded else "",
            )
        )
    files["moodle-grading-worksheet.csv"] = lms.moodle_grading_worksheet(rows)
    files["moodle-grading-worksheet-blind.csv"] = lms.moodle_grading_worksheet(rows, blind=True)
    expected["moodle-grading-worksheet.csv"] = {
        lms.MOODLE_HIDDENUSER + str(p.participant): p.student_id for p in CLASS
    }
    files["moodle-participants.csv"] = lms.moodle_participants_export(users)

    students = [canvas_student(p) for p in CLASS]
    scores: dict[tuple[int, int], float | str | None] = {}
    for i, p in enumerate(CLASS):
        scores[(p.canvas_id, EARLIER.id)] = float(i % 6) if i % 7 else "EX"
        if i % 4 == 0:
            scores[(p.canvas_id, ASSIGNMENT.id)] = float(i % 11)
    files["canvas-gradebook.csv"] = lms.canvas_gradebook_export(
        students, [EARLIER, ASSIGNMENT], scores
    )

    subs = canvas_submissions()
    canvas_expected = {
        lms.canvas_submission_member(sub, f): sub.student.login_id
        for sub in subs
        for f in sub.files
    }
    files["canvas-submissions.zip"] = lms.canvas_submission_zip(subs)
    expected["canvas-submissions.zip"] = canvas_expected

    files["expected.json"] = (
        json.dumps(expected, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    ).encode()
    return files


def main(argv: list[str]) -> int:
    files = build()
    check = "--check" in argv
    changed = []
    OUT.mkdir(parents=True, exist_ok=True)
    for name, data in sorted(files.items()):
        path = OUT / name
        if path.exists() and path.read_bytes() == data:
            continue
        changed.append(name)
        if not check:
            path.write_bytes(data)
    for name in changed:
        print(("would change " if check else "wrote ") + f"tests/data/lms/{name}")
    return 1 if (check and changed) else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
