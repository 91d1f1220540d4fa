"""Moodle's grade imports, re-implemented from its source (the commits read: the
package's docstring): the offline grading worksheet and the gradebook CSV import."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from .common import Refused, php_float_cast, php_is_numeric
from .moodle import MoodleUser, moodle_fullname

# =========================================================================================
# Moodle: offline grading worksheet (assignfeedback_offline)
# =========================================================================================

# English strings, mod/assign/lang/en/assign.php and lang/en/moodle.php.
MOODLE_HIDDENUSER = "Participant "  # get_string('hiddenuser', 'assign'), trailing space
MOODLE_COL_IDENTIFIER = "Identifier"  # get_string('recordid', 'assign')
MOODLE_COL_GRADE = "Grade"  # get_string('gradenoun') (older: get_string('grade'))
MOODLE_COL_MODIFIED_GRADE = "Last modified (grade)"  # get_string('lastmodifiedgrade', 'assign')
MOODLE_COL_FEEDBACK = "Feedback comments"  # get_string('pluginname', 'assignfeedback_comments')


def moodle_worksheet_header(
    *,
    blind: bool = False,
    identity_fields: Sequence[str] = ("Email address",),
    scale: bool = False,
    markingworkflow: bool = False,
    submissions: bool = True,
    onlinetext: bool = False,
    feedback_comments: bool = True,
) -> list[str]:
    """The worksheet's columns, as ``assign_grading_table::__construct`` defines them when
    downloading (mod/assign/gradingtable.php): Identifier, Full name, the site's identity
    fields (``showuseridentity``, default email: 'Email address'), Status, Grade, Maximum
    Grade (or Scale), [Marking workflow state], Grade can be changed, Last modified
    (submission) and one column per submission editor field (Online text), Last modified
    (grade), one column per feedback editor field (Feedback comments). Under blind marking
    (without the capability to see identities) only Identifier stands before Status. Team
    submission, marker allocation and outcomes add columns not modelled here."""
    cols = [MOODLE_COL_IDENTIFIER]
    if not blind:
        cols += ["Full name", *identity_fields]
    cols.append("Status")
    cols.append(MOODLE_COL_GRADE)
    cols.append("Scale" if scale else "Maximum Grade")
    if markingworkflow:
        cols.append("Marking workflow state")
    cols.append("Grade can be changed")
    if submissions:
        cols.append("Last modified (submission)")
        if onlinetext:
            cols.append("Online text")
    cols.append(MOODLE_COL_MODIFIED_GRADE)
    if feedback_comments:
        cols.append(MOODLE_COL_FEEDBACK)
    return cols


def php_fputcsv_line(fields: Sequence[str], delimiter: str = ",", enclosure: str = '"') -> str:
    """One line as PHP's ``fputcsv`` writes it (what Spout/OpenSpout's CSV writer calls): a
    field is enclosed when it holds the delimiter, the enclosure, the escape character ``\\``,
    ``\\n``, ``\\r``, ``\\t`` or a space; enclosures inside are doubled (a ``\\`` directly before
    a ``"`` is left as PHP's escape and not doubled: not modelled). Line end ``\\n``."""
    out = []
    for f in fields:
        if any(c in f for c in (delimiter, enclosure, "\\", "\n", "\r", "\t", " ")):
            f = enclosure + f.replace(enclosure, enclosure * 2) + enclosure
        out.append(f)
    return delimiter.join(out) + "\n"


def moodle_userdate(ts: int | None) -> str:
    """``userdate($ts)`` with ``strftimedatetime`` ('%A, %d %B %Y, %I:%M %p', the day without
    its leading zero), in UTC here; '-' when there is no date (gradingtable ``col_timemarked``,
    ``col_timesubmitted``)."""
    if not ts:
        return "-"
    d = datetime.fromtimestamp(ts, UTC)
    return f"{d:%A}, {d.day} {d:%B %Y}, {d:%I:%M %p}"


@dataclass(frozen=True)
class WorksheetRow:
    user: MoodleUser
    status: str = "Submitted for grading"
    grade: str = ""  # format_float(grade, decimals) or '' when ungraded
    maxgrade: str = "10.00"
    can_change: str = "Yes"
    submitted: int | None = None
    graded: int | None = None
    feedback: str = ""
    onlinetext: str = ""


def moodle_grading_worksheet(
    rows: Sequence[WorksheetRow], *, blind: bool = False, bom: bool = True, **header_options: bool
) -> bytes:
    """The "Download grading worksheet" CSV (assignfeedback_offline ``download_grades`` ->
    ``assign_grading_table`` with ``is_downloading('csv')`` -> dataformat_csv, a Spout /
    OpenSpout CSV writer): UTF-8 with a BOM (the writers' default), comma, fputcsv quoting,
    LF line ends. The file is named ``clean_filename('Grades-' . course shortname . '-' .
    assignment name . '-' . [group name '-'] . cmid)`` + '.csv'."""
    header = moodle_worksheet_header(blind=blind, **header_options)
    lines = [php_fputcsv_line(header)]
    for r in rows:
        cells = [MOODLE_HIDDENUSER + str(r.user.participantid)]
        if not blind:
            cells += [moodle_fullname(r.user), r.user.email]
        cells += [r.status, r.grade, r.maxgrade, r.can_change]
        if header_options.get("submissions", True):
            cells.append(moodle_userdate(r.submitted))
            if header_options.get("onlinetext", False):
                cells.append(r.onlinetext)
        cells.append(moodle_userdate(r.graded))
        if header_options.get("feedback_comments", True):
            cells.append(r.feedback)
        lines.append(php_fputcsv_line(cells))
    data = "".join(lines).encode("utf-8")
    return (b"\xef\xbb\xbf" + data) if bom else data


# --- csv_import_reader ---------------------------------------------------------------------

MOODLE_DELIMITERS = {"comma": ",", "semicolon": ";", "colon": ":", "tab": "\t"}


def moodle_csv_import_reader(
    data: bytes | str, encoding: str = "utf-8", separator: str = "comma"
) -> tuple[list[str], list[list[str]]]:
    """``csv_import_reader::load_csv_content`` (lib/csvlib.class.php): convert from the chosen
    encoding to UTF-8, drop a UTF-8 BOM, CRLF/CR -> LF, trim the whole content, split with
    ``fgetcsv`` on the chosen delimiter (comma, semicolon, colon, tab; the upload forms offer
    these and the encodings of ``core_text::get_encodings``). The first row is the header;
    blank lines are dropped; any row whose field count differs from the header's refuses the
    whole file ('csvweirdcolumns'); no rows at all: 'csvemptyfile'."""
    text = data.decode(encoding) if isinstance(data, bytes) else data
    text = text.removeprefix("\ufeff")
    text = re.sub(r"\r\n?", "\n", text)
    text = text.strip(" \n\r\0\x0b") if separator == "tab" else text.strip()
    delim = MOODLE_DELIMITERS[separator]
    rows = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=delim) if r]
    if not rows:
        raise Refused("[csvemptyfile] the CSV file is empty")
    header, body = rows[0], rows[1:]
    for r in body:
        if len(r) != len(header):
            raise Refused("[csvweirdcolumns] the CSV file has a varying number of columns")
    return header, body


def moodle_unformat_float(
    value: str, *, decsep: str = ".", strict: bool = False
) -> float | bool | None:
    """``unformat_float($localefloat, $strict)`` (lib/moodlelib.php): trimmed; '' -> null;
    spaces removed; the language's decimal separator -> '.'; strict and not numeric ->
    false; else ``(float)``. (Reconstructed from memory of moodlelib; see open questions.)"""
    v = value.strip()
    if v == "":
        return None
    v = v.replace(" ", "").replace(decsep, ".")
    if strict and not php_is_numeric(v):
        return False
    return php_float_cast(v)


_USERDATE = re.compile(
    r"^(?:[A-Za-z]+, )?(\d{1,2}) ([A-Za-z]+) (\d{4}), (\d{1,2}):(\d{2}) ?([AaPp][Mm])?$"
)


def php_strtotime_userdate(text: str) -> int | None:
    """The part of PHP ``strtotime`` the importer meets: the worksheet's own English
    ``userdate`` text (UTC here; Moodle parses in the server's timezone). Anything else,
    including '-', gives None (PHP: false, which compares as 0)."""
    m = _USERDATE.match(text.strip())
    if not m:
        return None
    day, month, year, hour, minute, ampm = m.groups()
    try:
        mon = datetime.strptime(month, "%B").month
    except ValueError:
        return None
    h = int(hour)
    if ampm:
        h = h % 12 + (12 if ampm.lower() == "pm" else 0)
    return int(datetime(int(year), mon, int(day), h, int(minute), tzinfo=UTC).timestamp())


@dataclass
class WorksheetImport:
    """One worksheet row as the offline importer handles it."""

    participant: MoodleUser
    grade_text: str
    grade: float | str | None
    modified: int | None
    feedback: dict[str, str]
    grade_update: bool
    feedback_update: bool
    skip_reason: str = ""


@dataclass(frozen=True)
class CurrentGrade:
    grade: float | None = None  # assign_grades.grade (-1 / None: ungraded)
    timemodified: int = 0
    feedback: str = ""
    locked: bool = False


def moodle_worksheet_import_check(
    text: bytes | str,
    participants: Mapping[int, MoodleUser] | None = None,
    *,
    encoding: str = "utf-8",
    separator: str = "comma",
    maxgrade: float = 10.0,
    scale: Sequence[str] | None = None,
    current: Mapping[int, CurrentGrade] | None = None,
    ignoremodified: bool = False,
    decsep: str = ".",
    feedback_columns: Sequence[str] = (MOODLE_COL_FEEDBACK,),
) -> list[WorksheetImport]:
    """What "Upload grading worksheet" does with a file.

    Re-implements mod/assign/feedback/offline/importgradeslib.php
    ``assignfeedback_offline_grade_importer::init`` and ``next``, and locallib.php
    ``assign_feedback_offline::process_import_grades``:

    * columns are found by their exact header text in the uploader's language ('Identifier',
      'Grade', 'Last modified (grade)'); any of the three missing refuses the file
      ('invalidgradeimport'); feedback columns by their description ('Feedback comments'),
      but one in column 0 is ignored (``!empty($details['index'])``);
    * the identifier loses its first ``strlen('Participant ')`` characters and the rest is the
      participant id (``get_user_id_for_uniqueid``); a row whose id is unknown or not a
      current participant is silently passed over;
    * scale: the grade text must equal a scale item (-> its 1-based index) else it is blank;
      points: ``unformat_float`` (not strict: 'abc' is 0.0, '7.5abc' is 7.5);
    * the grade is skipped when equal to the current grade, blank or negative, stale (the
      current grade's timemodified > the row's 'Last modified (grade)' + 60 s, unless
      ``ignoremodified``), locked, or above the maximum grade;
    * feedback is written when not stale (or ``ignoremodified``) and different from the
      current text, even when the grade is skipped.

    ``participants`` defaults to "any participant id in the file"; ``current`` holds existing
    grades by participant id.
    """
    header, body = moodle_csv_import_reader(text, encoding, separator)
    gi: int | None = None
    ii: int | None = None
    mi: int | None = None
    # importgradeslib init(): the last matching column wins (a plain loop assigning the index)
    for i, c in enumerate(header):
        if c == MOODLE_COL_GRADE:
            gi = i
        if c == MOODLE_COL_IDENTIFIER:
            ii = i
        if c == MOODLE_COL_MODIFIED_GRADE:
            mi = i
    if gi is None or ii is None or mi is None:
        raise Refused(
            "[invalidgradeimport] the worksheet needs the columns 'Identifier', 'Grade' and "
            "'Last modified (grade)'"
        )
    fb_index = {c: i for i, c in enumerate(header) if c in feedback_columns}
    current = current or {}
    out: list[WorksheetImport] = []
    for row in body:
        idstr = row[ii]
        rest = idstr[len(MOODLE_HIDDENUSER) :]
        if not php_is_numeric(rest) or not float(rest).is_integer():
            continue
        pid = int(float(rest))
        if participants is None:
            user = MoodleUser(0, "", "", "", pid)
        else:
            found = participants.get(pid)
            if found is None:
                continue
            user = found
        grade_text = row[gi]
        modified = php_strtotime_userdate(row[mi])
        feedback = {c: row[i] for c, i in fb_index.items() if i != 0}
        grade: float | str | None
        if scale:
            grade = float(scale.index(grade_text) + 1) if grade_text in scale else ""
        else:
            u = moodle_unformat_float(grade_text, decsep=decsep)
            grade = None if u is None or isinstance(u, bool) else u
        cur = current.get(pid)
        stale = cur is not None and cur.timemodified > (modified or 0) + 60
        reason = ""
        if (
            cur is not None
            and cur.grade is not None
            and grade not in ("", None)
            and cur.grade == grade
        ):
            reason = "grade not modified"
        elif grade is None or grade == "" or (isinstance(grade, float) and grade < 0):
            reason = "grade has no value"
        elif not ignoremodified and stale:
            reason = "grade modified in Moodle since the worksheet was downloaded"
        elif cur is not None and cur.locked:
            reason = "grade is locked"
        elif not scale and isinstance(grade, float) and (grade < 0 or grade > maxgrade):
            reason = "grade out of range"
        fb_update = (ignoremodified or not stale) and any(
            v != (cur.feedback if cur else "") for v in feedback.values()
        )
        out.append(
            WorksheetImport(
                user, grade_text, grade, modified, feedback, not reason, fb_update, reason
            )
        )
    return out


def moodle_participants_export(users: Sequence[MoodleUser]) -> bytes:
    """A participants list as a teacher exports it from Participants (the "Download table
    data as" CSV of ``core_user\\table\\participants``; same dataformat writer as the
    worksheet): 'First name', 'Last name', the identity field 'Email address', then
    'Roles', 'Groups', 'Last access to course'. This file carries no participant id: only the
    worksheet and the download do. (Columns from the participants page in 4.x; not read in
    source this session, see open questions.)"""
    lines = [
        php_fputcsv_line(
            ["First name", "Last name", "Email address", "Roles", "Groups", "Last access to course"]
        )
    ]
    for u in users:
        lines.append(
            php_fputcsv_line([u.firstname, u.lastname, u.email, "Student", "No groups", "Never"])
        )
    return b"\xef\xbb\xbf" + "".join(lines).encode("utf-8")


# =========================================================================================
# Moodle: gradebook CSV import (gradeimport_csv)
# =========================================================================================

# load_data.php map_user_data_with_value(): the user fields a column may be mapped from.
MOODLE_USER_MAP_FIELDS = {
    "userid": "userid",
    "useridnumber": "idnumber",
    "useremail": "email",
    "username": "username",
}
_MAP_BY = {
    "email": "useremail",
    "idnumber": "useridnumber",
    "username": "username",
    "userid": "userid",
}


@dataclass
class GradebookImportRow:
    userid: int
    grades: dict[str, float | None]
    feedback: dict[str, str]


def moodle_gradebook_import_check(
    text: bytes | str,
    map_by: str = "email",
    users: Sequence[MoodleUser] = (),
    *,
    map_from: str | None = None,
    items: Mapping[str, str] | None = None,
    encoding: str = "utf-8",
    separator: str = "comma",
    gradepointmax: float = 100.0,
    decsep: str = ".",
) -> list[GradebookImportRow]:
    """Gradebook > Import > CSV file, re-implemented from grade/import/csv/classes/load_data.php
    ``gradeimport_csv_load_data::prepare_import_grade_data`` and ``map_user_data_with_value``.

    * The teacher maps one column ("Map from", ``map_from``; default: the column named like
      the field, 'Email address' for email) to one user field ("Map to": id, idnumber, email,
      username); every other column to an existing grade item, 'new', 'feedback_<itemid>' or
      ignore (``items``: header -> 'item' | 'new' | 'feedback:<header of the item>' |
      'ignore'; headers not given are ignored). Two columns on one target: 'cannotmapfield'.
    * Headers and values are trimmed. Lines of at most one field are skipped.
    * The user is looked up by exact field value (``$DB->get_record('user', [field =>
      value])``); not found refuses the whole import ('usermappingerror'). A blank value
      keeps the previous row's user (``$this->studentid`` is not reset per row); a first row
      without one refuses the import ('usermappingerrorusernotfound').
    * Grades: '' or '-' means no grade (null); otherwise ``unformat_float(value, true)``,
      non-numeric refuses the import ('badgrade'); above ``$CFG->gradepointmax`` (100 unless
      unlimited grades) refuses it ('gradevaluetoobig'). Locked items or grades refuse too.
    """
    header, body = moodle_csv_import_reader(text, encoding, separator)
    header = [h.strip() for h in header]
    if map_by not in _MAP_BY:
        raise ValueError(f"map_by must be one of {sorted(_MAP_BY)}")
    default_from = {
        "email": "Email address",
        "idnumber": "ID number",
        "username": "Username",
        "userid": "id",
    }[map_by]
    from_col = map_from or default_from
    if from_col not in header:
        raise Refused(f"[mapfrom] no column {from_col!r} to map users from")
    fi = header.index(from_col)
    items = dict(items or {})
    targets = [t for t in items.values() if t != "ignore"]
    dup = {t for t in targets if targets.count(t) > 1 and t != "new"}
    if dup:
        raise Refused(f"[cannotmapfield] two columns mapped to {sorted(dup)[0]!r}")
    by_value = {}
    for u in users:
        key = {
            "email": u.email,
            "idnumber": u.idnumber,
            "username": u.username,
            "userid": str(u.userid),
        }[map_by]
        by_value.setdefault(key, u)
    out: list[GradebookImportRow] = []
    studentid: int | None = None
    for line in body:
        if len(line) <= 1:
            continue
        grades: dict[str, float | None] = {}
        feedback: dict[str, str] = {}
        for k, raw in enumerate(line):
            value = raw.strip()
            if k == fi:
                if value:
                    user = by_value.get(value)
                    if user is None:
                        raise Refused(
                            f"[usermappingerror] user mapping error: could not find user with "
                            f"{ {'email': 'email address'}.get(map_by, map_by) } {value!r}"
                        )
                    studentid = user.userid
                continue
            target = items.get(header[k], "ignore")
            if target == "ignore":
                continue
            if target.startswith("feedback:"):
                feedback[target.split(":", 1)[1]] = value
                continue
            if value in ("", "-"):
                grades[header[k]] = None
                continue
            v = moodle_unformat_float(value, decsep=decsep, strict=True)
            if v is False or v is None or isinstance(v, bool):
                raise Refused(f"[badgrade] grade {value!r} of column {header[k]!r} is not a number")
            if v > gradepointmax:
                raise Refused(f"[gradevaluetoobig] grade {value!r} above {gradepointmax:g}")
            grades[header[k]] = v
        if studentid is None:
            raise Refused("[usermappingerrorusernotfound] a row names no user")
        out.append(GradebookImportRow(studentid, grades, feedback))
    return out
