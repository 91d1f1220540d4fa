"""Canvas's rules, re-implemented from its source (the commits read: the package's
docstring): the gradebook export and import, the submissions download and re-upload."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .common import Refused, php_float_cast, write_zip

# =========================================================================================
# Canvas: gradebook export and import
# =========================================================================================


@dataclass(frozen=True)
class CanvasStudent:
    id: int
    name: str  # display name, "Seán O'Brien"
    sortable_name: str  # "O'Brien, Seán"
    sis_user_id: str = ""
    login_id: str = ""  # pseudonym unique_id
    section: str = "Section 1"


@dataclass(frozen=True)
class CanvasAssignment:
    id: int
    title: str
    points_possible: float


def canvas_title_with_id(a: CanvasAssignment) -> str:
    """app/models/assignment.rb ``Assignment#title_with_id``: "#{title} (#{id})"."""
    return f"{a.title} ({a.id})"


def canvas_title_and_id(s: str) -> tuple[str, str | None]:
    """app/models/assignment.rb ``Assignment.title_and_id``: /\\A(.*)\\s\\((\\d+)\\)\\z/."""
    m = re.fullmatch(r"(.*)\s\((\d+)\)", s, flags=re.DOTALL)
    return (m.group(1), m.group(2)) if m else (s, None)


def canvas_number(x: float | None) -> str:
    """``I18n.n(x)`` in English as the exporter uses it: nil -> empty, integral -> no
    decimals, else the shortest decimal. (Canvas's I18n.n precision and its trailing-zero rule
    were not read; see open questions.)"""
    if x is None:
        return ""
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def _ruby_csv_line(fields: Sequence[str | None], col_sep: str = ",") -> str:
    """Ruby ``CSV.generate`` defaults: nil -> empty, "" -> "\\"\\"" (quote_empty), a field is
    quoted when it holds the separator, '"', CR or LF; row separator LF."""
    out = []
    for f in fields:
        if f is None:
            out.append("")
        elif f == "" or any(c in f for c in (col_sep, '"', "\r", "\n")):
            out.append('"' + f.replace('"', '""') + '"')
        else:
            out.append(f)
    return col_sep.join(out) + "\n"


def canvas_gradebook_export(
    students: Sequence[CanvasStudent],
    assignments: Sequence[CanvasAssignment],
    scores: Mapping[tuple[int, int], float | str | None] | None = None,
    *,
    include_sis_id: bool = True,
    sortable_names: bool = True,
    col_sep: str = ",",
    bom: bool = False,
    totals: bool = True,
) -> bytes:
    """Grades > Export > CSV, after lib/gradebook_exporter.rb ``GradebookExporter#csv_data``:

    * row 1: Student, ID, [SIS User ID], SIS Login ID, [Root Account: only with a trust],
      Section, each assignment's "Title (id)", then the totals (per group and overall
      "Current Points", "Final Points", "Current Score", "Unposted Current Score", "Final
      Score", "Unposted Final Score"; here one overall set without groups);
    * row 2 (a 'Muted'/'Manual Posting' row when some assignment has it; not written here);
    * the points row: "    Points Possible" (four leading spaces), blanks under the student
      columns, each assignment's points, "(read only)" under every total;
    * one row per student ordered by sortable name: the name (sortable "Last, First" when the
      course lists students so, else the display name; a name starting with '=' is written
      '="..."'), the Canvas user id, the SIS ids, the sections joined as a sentence, each
      score (blank when none, "EX" excused, "N/A" not assigned), the totals.

    ``col_sep`` ';' is the "semicolon" export preference; the BOM is the "include byte order
    mark" preference (off by default). Newer Canvas adds "Integration ID" after "SIS Login
    ID" when the account has integration ids (the importer skips it).
    """
    scores = scores or {}
    head: list[str | None] = ["Student", "ID"]
    if include_sis_id:
        head.append("SIS User ID")
    head += ["SIS Login ID", "Section"]
    head += [canvas_title_with_id(a) for a in assignments]
    tot = (
        [
            "Current Points",
            "Final Points",
            "Current Score",
            "Unposted Current Score",
            "Final Score",
            "Unposted Final Score",
        ]
        if totals
        else []
    )
    head += tot
    lines = [_ruby_csv_line(head, col_sep)]
    pp: list[str | None] = ["    Points Possible", None, None, None]
    if include_sis_id:
        pp.append(None)
    pp += [canvas_number(a.points_possible) for a in assignments]
    pp += ["(read only)"] * len(tot)
    lines.append(_ruby_csv_line(pp, col_sep))
    for s in sorted(students, key=lambda s: (s.sortable_name.casefold(), s.id)):
        name = s.sortable_name if sortable_names else s.name
        if re.match(r"^\s*=", name):
            name = f'="{name}"'
        row: list[str | None] = [name, str(s.id)]
        if include_sis_id:
            row.append(s.sis_user_id or None)
        row += [s.login_id or None, s.section]
        total = 0.0
        for a in assignments:
            v = scores.get((s.id, a.id))
            if isinstance(v, str):
                row.append(v)
            else:
                row.append(canvas_number(v) if v is not None else None)
                total += v or 0.0
        if totals:
            possible = sum(a.points_possible for a in assignments) or 1.0
            pct = round(100 * total / possible, 2)
            row += [
                canvas_number(total),
                canvas_number(total),
                canvas_number(pct),
                canvas_number(pct),
                canvas_number(pct),
                canvas_number(pct),
            ]
        lines.append(_ruby_csv_line(row, col_sep))
    data = "".join(lines).encode("utf-8")
    return (b"\xef\xbb\xbf" + data) if bom else data


CANVAS_RESERVED = (
    "Student",
    "LastName",
    "FirstName",
    "ID",
    "SIS User ID",
    "SIS Login ID",
    "Section",
    "Integration ID",
    "Root Account",
)
CANVAS_NON_ASSIGNMENT = (
    "Current Score",
    "Current Points",
    "Current Grade",
    "Final Score",
    "Final Points",
    "Final Grade",
    "Override Score",
    "Override Grade",
    "Override Status",
)


@dataclass
class CanvasImport:
    assignments: list[tuple[str, int | None, str]]  # (title, id or None if new, header)
    points_possible: dict[str, str]
    readonly: list[str]
    students: list[tuple[CanvasStudent | None, str, dict[str, str]]]  # (match, how, grades)


def _canvas_decimal_comma(field: str | None) -> str | None:
    """lib/gradebook_importer.rb ``CSV::Converters[:decimal_comma_to_period]``."""
    if field is None or not re.match(r"^-?[0-9.,]+%?$", field):
        return field
    parts = re.split(r"[,.]", field)
    last = parts.pop()
    return last if not parts else "".join(parts) + "." + last


def canvas_gradebook_import_check(
    text: bytes | str, students: Sequence[CanvasStudent] = ()
) -> CanvasImport:
    """Grades > Import, re-implemented from lib/gradebook_importer.rb (current):

    * delimiter: ';' when, over the first three lines, ';' gives a consistent and larger field
      count than ',' (``identify_delimiter``), else ','; lines of only ``;, `` skipped; every
      number-like field ``/^-?[0-9.,]+%?$/`` has its last ',' or '.' made the decimal point
      and the others dropped ("1.234,5" -> "1234.5", "7,5" -> "7.5");
    * header (``header?``): more than 3 fields, field 0 contains "Student" and field 1 "ID"
      (or LastName, FirstName, ID when that feature is on), and the last student column
      contains "Section"; else "Invalid header row". "SIS Login ID" alone, or "SIS User ID"
      + "SIS Login ID" (+ "Integration ID") (+ "Root Account") widen the student columns;
    * after the student columns every header matching a total ("Current Score", "Final
      Grade", "Unposted ...", override columns...) is dropped; the rest are assignments, found
      by the "(id)" at the end of the title, else by exact title, else new;
    * a row whose field 0 contains "Points Possible" gives points; a row of only blanks,
      "Muted" or "Manual Posting..." is skipped; an assignment whose points cell says
      "read only" is never imported;
    * students: by Canvas user id (field 1), else SIS User ID, else SIS Login ID, else a name
      equal to the name or the sortable name; else a new (unknown) student;
    * grades are stripped; blank and "-" both mean no score (blank over an existing score is
      a change to 'no score'); "EX" (any case) is excused; 0 is a score.
    """
    raw = text.decode("utf-8") if isinstance(text, bytes) else text
    raw = raw.removeprefix("\ufeff")
    first = raw.splitlines(keepends=True)[:3]

    def count(sep: str) -> int:
        try:
            counts = [len(next(csv.reader([ln], delimiter=sep), [])) for ln in first]
        except csv.Error:
            return 0
        return counts[0] if counts and len(set(counts)) == 1 else 0

    sep = ";" if count(";") > count(",") else ","
    rows = []
    for line in csv.reader(io.StringIO(raw, newline=""), delimiter=sep):
        if re.fullmatch(r"[;, ]+", sep.join(line)) or not line:
            continue
        rows.append([_canvas_decimal_comma(c) for c in line])
    if not rows:
        raise Refused("[Invalid header row] empty file")
    header = rows[0]
    if not (len(header) > 3 and "Student" in header[0] and "ID" in header[1]):
        raise Refused("[Invalid header row] needs Student, ID, ... Section")
    student_columns = 3
    sis_user = sis_login = None
    if re.search(r"SIS\s+Login\s+ID", header[2]):
        sis_login = 2
        student_columns += 1
    elif re.search(r"SIS\s+User\s+ID", header[2]) and re.search(r"SIS\s+Login\s+ID", header[3]):
        i = 1 if len(header) > 4 and re.search(r"Integration\s+ID", header[4]) else 0
        sis_user, sis_login = 2, 3
        student_columns += 2 + i
        if len(header) > 4 + i and re.search(r"Root\s+Account", header[4 + i]):
            student_columns += 1
    if "Section" not in header[student_columns - 1]:
        raise Refused("[Invalid header row] the last student column must be Section")
    non_assignment = re.compile("|".join(CANVAS_NON_ASSIGNMENT))
    assignments = []
    for pos, h in enumerate(header):
        if pos < student_columns or non_assignment.search(h):
            continue
        title, aid = canvas_title_and_id(h)
        assignments.append((title, int(aid) if aid else None, h, pos))
    by_id = {s.id: s for s in students}
    by_sis = {s.sis_user_id: s for s in students if s.sis_user_id}
    by_login = {s.login_id: s for s in students if s.login_id}
    points: dict[str, str] = {}
    out_students = []
    for row in rows[1:]:
        row = row + [None] * (len(header) - len(row))
        if row[0] and "Points Possible" in row[0]:
            for _t, _a, h, pos in assignments:
                if row[pos] is not None:
                    points[h] = row[pos]
            continue
        if all(
            re.fullmatch(r"\s*(Muted|Manual Posting.*)?\s*", c, flags=re.I)
            for c in row
            if c is not None
        ):
            continue
        match: CanvasStudent | None = None
        how = "new"
        sid = row[1]
        if sid and sid.strip() and php_float_cast(sid) and int(php_float_cast(sid)) in by_id:
            match, how = by_id[int(php_float_cast(sid))], "id"
        if match is None and sis_user is not None and row[sis_user] and row[sis_user] in by_sis:
            match, how = by_sis[row[sis_user]], "sis_user_id"
        if (
            match is None
            and sis_login is not None
            and row[sis_login]
            and row[sis_login] in by_login
        ):
            match, how = by_login[row[sis_login]], "sis_login_id"
        if match is None and row[0]:
            match = next((s for s in students if row[0] in (s.name, s.sortable_name)), None)
            how = "name" if match else "new"
        grades = {h: (row[pos] or "").strip() for _t, _a, h, pos in assignments}
        grades = {h: ("EX" if g.casefold() == "ex" else g) for h, g in grades.items()}
        out_students.append((match, how, grades))
    readonly = [h for h, p in points.items() if re.search(r"read\s+only", p)]
    for s in out_students:
        for h in readonly:
            s[2].pop(h, None)
    return CanvasImport(
        [(t, a, h) for t, a, h, _p in assignments if h not in readonly],
        points,
        readonly,
        out_students,
    )


def canvas_no_change(new: str, current: str) -> bool:
    """lib/gradebook_importer.rb ``no_change_to_value?``: equal; or both blank/'-'; else
    compared as numbers rounded to 2 places (EX compared as text)."""
    if new == current:
        return True
    if new in ("", "-") and current in ("", "-"):
        return True
    if not new or not current:
        return False
    if new.casefold() == "ex" or current.casefold() == "ex":
        return False
    try:
        return f"{float(new):.2f}" == f"{float(current):.2f}"
    except ValueError:
        return False


# =========================================================================================
# Canvas: submissions download and re-upload
# =========================================================================================


def canvas_sanitize_user_name(sortable_name: str) -> str:
    """lib/content_zipper.rb ``ContentZipper#sanitize_user_name``: ``gsub!(/_(\\d+)_/, '\\1')``
    (so a name's digits between underscores cannot pose as an id) and the no-op
    ``gsub!(/^(\\d+)$/, '\\1')``."""
    return re.sub(r"_(\d+)_", r"\1", sortable_name)


def _ruby_word(c: str) -> bool:
    # Ruby's [[:word:]] on a UTF-8 string: Letter, Mark, Decimal_Number, Connector_Punctuation
    cat = unicodedata.category(c)
    return cat[0] in "LM" or cat in ("Nd", "Pc")


def canvas_sanitize_file_name(name: str) -> str:
    """``ContentZipper#sanitize_file_name``: ``gsub(/[^[[:word:]]]/, '').downcase``: every
    character but Unicode letters, marks, digits and '_' removed (spaces, commas,
    apostrophes, hyphens, dots), then lower-cased (Ruby's full Unicode downcase)."""
    return "".join(c for c in name if _ruby_word(c)).lower()


@dataclass(frozen=True)
class CanvasFile:
    id: int
    display_name: str
    data: bytes


@dataclass(frozen=True)
class CanvasSubmission:
    student: CanvasStudent
    files: tuple[CanvasFile, ...]
    late: bool = False
    submission_type: str = "online_upload"


def canvas_submission_member(
    sub: CanvasSubmission, f: CanvasFile, *, anonymous: bool = False
) -> str:
    """``ContentZipper#get_filename`` + ``add_upload_submission``:
    ``sanitize_file_name([users_name, ('LATE' if late), user_id].compact.join('_'))`` +
    ``"_#{attachment.id}_#{attachment.display_name}"``, users_name being
    ``sanitize_user_name(sortable_name)``; so ``obrienseán_late_1234_5678_answers.csv``. The
    display name is not sanitized. Under anonymous grading (the version read) the name is
    left out: ``late_1234_5678_...``; newer Canvas writes ``anon_<anonymous_id>``."""
    users_name = None if anonymous else canvas_sanitize_user_name(sub.student.sortable_name)
    parts = [
        p for p in (users_name, "LATE" if sub.late else None, str(sub.student.id)) if p is not None
    ]
    return f"{canvas_sanitize_file_name('_'.join(parts))}_{f.id}_{f.display_name}"


def canvas_submission_zip(subs: Sequence[CanvasSubmission], *, anonymous: bool = False) -> bytes:
    """ "Download Submissions" (ContentZipper#zip_assignment, rubyzip ``Zip::File``): one flat
    member per uploaded file, no folders; a repeated name made unique by
    ``Attachment.make_unique_filename`` (not modelled: names here never repeat). Text and URL
    submissions become ``<prefix>_text.html`` / ``<prefix>_link.html``."""
    members = []
    for s in subs:
        if s.submission_type == "online_upload":
            for f in s.files:
                members.append((canvas_submission_member(s, f, anonymous=anonymous), f.data))
        else:
            users_name = None if anonymous else canvas_sanitize_user_name(s.student.sortable_name)
            parts = [p for p in (users_name, "LATE" if s.late else None, str(s.student.id)) if p]
            stem = canvas_sanitize_file_name("_".join(parts))
            kind = "text" if s.submission_type == "online_text_entry" else "link"
            members.append((f"{stem}_{kind}.html", b"<html></html>"))
    return write_zip(members)


@dataclass
class ReuploadResult:
    comments: dict[str, tuple[CanvasSubmission, CanvasFile]] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)


def canvas_reupload_check(
    zip_bytes: bytes, submissions: Sequence[CanvasSubmission]
) -> ReuploadResult:
    """ "Re-upload Submissions": app/models/assignment.rb ``Assignment#generate_comments_from_files``
    / ``infer_comment_context_from_filename``: the member's base name is split on '_'; the
    first two all-digit pieces are the user id and the attachment id; the attachment id is
    dropped when the last piece starts with 'link' or the name starts with '._'; the file
    becomes a comment on that user's submission only when the submission exists and the
    attachment is one of its files (and readable); otherwise it is listed as ignored.
    Folders in the zip do not matter (``File.basename``)."""
    by_user = {s.student.id: s for s in submissions}
    res = ReuploadResult()
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as zf:
        for info in zf.infolist():
            if info.is_dir():
                continue
            base = info.filename.rsplit("/", 1)[-1]
            pieces = base.split("_")
            digits = [p for p in pieces if re.fullmatch(r"\d+", p)][:2]
            user_id = digits[0] if digits else None
            attachment_id = digits[1] if len(digits) > 1 else None
            if pieces[-1].startswith("link") or base.startswith("._"):
                attachment_id = None
            sub = by_user.get(int(user_id)) if user_id else None
            att = None
            if sub is not None and attachment_id is not None:
                att = next((f for f in sub.files if f.id == int(attachment_id)), None)
            if sub is None or att is None:
                res.ignored.append(info.filename)
                continue
            res.comments[info.filename] = (sub, att)
    return res
