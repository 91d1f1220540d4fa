"""Ground truth for the LMS round trip: Python re-implementations of what Moodle and Canvas
write and accept. A test-support module (pytest does not collect it: no ``test_`` prefix).

Every function names the source it follows (repository, path, function, and the commit read
through the code index). Nothing here is product code; the product is tested against it.
See docs/lms-formats.md for the summary and the open questions.

Commits read (moodle/moodle unless said otherwise):

* ``lib/classes/param.php`` @ 021406c8 (``param::clean_param_value_file``, ``..._path``)
* ``mod/assign/locallib.php`` @ 9ec2c12f (``assign::download_submissions``, Moodle 3.9-4.0 era)
* ``mod/assign/classes/downloader.php`` @ da545523 (``downloader``, Moodle >= 4.1)
* ``mod/assign/feedback/file/importziplib.php`` @ 3769c65a
  (``assignfeedback_file_zip_importer``)
* ``mod/assign/feedback/offline/locallib.php`` @ 04975560 (``process_import_grades``,
  ``download_grades``), ``importgradeslib.php`` @ 9762977c
  (``assignfeedback_offline_grade_importer``)
* ``mod/assign/gradingtable.php`` @ 1494620b / 003699db (``assign_grading_table::__construct``,
  ``col_recordid``)
* ``mod/assign/lang/en/assign.php`` (strings ``hiddenuser`` = 'Participant ', ``recordid``,
  ``lastmodifiedgrade``, ``maxgrade`` = 'Maximum Grade', ``gradecanbechanged``)
* ``grade/import/csv/classes/load_data.php`` @ 162f42f0 (``gradeimport_csv_load_data``)
* ``lib/csvlib.class.php`` @ 117bd748 (``csv_import_reader::load_csv_content``; an old copy,
  see the open questions)
* instructure/canvas-lms ``lib/gradebook_exporter.rb`` @ 433333ee (``GradebookExporter``),
  ``lib/gradebook_importer.rb`` @ 00b222d7 (``GradebookImporter``, current) and @ 2702e63b
  (2012), ``lib/content_zipper.rb`` @ a72b23a8 (``ContentZipper``), ``app/models/assignment.rb``
  (``infer_comment_context_from_filename``, ``title_and_id``, ``title_with_id``)
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

# A fixed stamp for every zip member, so fixtures are byte-for-byte reproducible.
ZIP_DATE = (2026, 3, 2, 10, 15, 0)


class Refused(ValueError):
    """The LMS refuses the whole upload; the message is the reason (Moodle's string id or
    Canvas's progress message in brackets)."""


# =========================================================================================
# Moodle: clean_filename / PARAM_FILE / PARAM_PATH
# =========================================================================================

# lib/classes/param.php, param::clean_param_value_file():
#     preg_replace('~[[:cntrl:]]|[&<>"`\|\':\\\\/]~u', '', $param)
# PHP's /u sets PCRE2_UTF and PCRE2_UCP, so [[:cntrl:]] is \p{Cc} (U+0000-001F, U+007F-009F).
_MOODLE_FILE_STRIP = set("&<>\"`|':\\/")


def moodle_clean_param_file(value: str) -> str:
    """``clean_param($value, PARAM_FILE)``: drop control characters and ``& < > " ` | ' : \\ /``;
    ``.`` and ``..`` become empty. Nothing else: no trimming, no length cap, spaces, dots,
    underscores and every other Unicode letter or sign are kept.

    Source: moodle/moodle lib/classes/param.php ``param::clean_param_value_file`` (Moodle 4.4+;
    before, the same regex in lib/moodlelib.php ``clean_param`` case PARAM_FILE). ``fix_utf8``
    first drops NUL and invalid UTF-8, which a Python str cannot hold apart from NUL (a Cc).
    """
    out = "".join(
        c for c in value if c not in _MOODLE_FILE_STRIP and unicodedata.category(c) != "Cc"
    )
    return "" if out in (".", "..") else out


def moodle_clean_filename(value: str) -> str:
    """``clean_filename($string)``: in lib/moodlelib.php it is ``clean_param($string,
    PARAM_FILE)`` (see :func:`moodle_clean_param_file`)."""
    return moodle_clean_param_file(value)


def moodle_clean_param_path(value: str) -> str:
    """``clean_param($value, PARAM_PATH)``: backslashes become ``/``, each part is cleaned as
    PARAM_FILE (a leading ``.`` part is kept), then ``//+`` -> ``/`` and ``/(./)+`` -> ``/``.

    Source: lib/classes/param.php ``param::clean_param_value_path``.
    """
    parts = value.replace("\\", "/").split("/")
    parts = [
        p if (p == "." and i == 0) else moodle_clean_param_file(p) for i, p in enumerate(parts)
    ]
    out = "/".join(parts)
    out = re.sub(r"//+", "/", out)
    return re.sub(r"/(\./)+", "/", out)


# =========================================================================================
# Moodle: users, fullname(), the submissions download
# =========================================================================================


@dataclass(frozen=True)
class MoodleUser:
    """A course participant as Moodle knows them.

    ``participantid`` is the assignment's ``assign_user_mapping.id`` for the user, what
    ``assign::get_uniqueid_for_user($userid)`` returns: it is NOT the user id. Moodle puts it in
    every download folder name, blind or not, in the worksheet's "Participant N" identifier
    and reads it back in both imports (importziplib ``get_participant_mapping``;
    importgradeslib ``next``). The ids are allocated per assignment in shuffled order.
    Evidence: mod/assign/gradingtable.php (commit 1494620b) selects
    ``um.id as recordid`` from ``{assign_user_mapping}`` and ``col_recordid`` prints
    'Participant ' . that id; ``get_uniqueid_for_user_static`` (mod/assign/locallib.php)
    returns the mapping record's id, allocating ids for all participants at random first
    (seen in a plugin's verbatim copy of it; the core function itself was not read).
    """

    userid: int
    firstname: str
    lastname: str
    email: str
    participantid: int
    username: str = ""
    idnumber: str = ""


def moodle_fullname(user: MoodleUser, template: str = "{firstname} {lastname}") -> str:
    """``fullname($user)`` with the site's name format. The default ``$CFG->fullnamedisplay``
    is 'language', i.e. the language's ``fullnamedisplay`` string, '{$a->firstname}
    {$a->lastname}' in English; admins may set e.g. 'lastname firstname' (template
    ``"{lastname} {firstname}"``). Surrounding and doubled whitespace is tidied as fullname()
    does (lib/moodlelib.php ``fullname``; the punctuation-tidying of empty name parts is not
    modelled: see the open questions)."""
    name = template.format(firstname=user.firstname, lastname=user.lastname)
    return re.sub(r"\s{2,}", " ", name).strip()


def moodle_submission_prefix(
    user: MoodleUser, *, blind: bool = False, template: str = "{firstname} {lastname}"
) -> str:
    """The per-student prefix: ``clean_filename(str_replace('_', ' ', $fullname) . '_' .
    $uniqueid)``, with ``$fullname = get_string('participant', 'assign')`` ('Participant') under
    blind marking. Sources: mod/assign/locallib.php ``assign::download_submissions`` (< 4.1) and
    mod/assign/classes/downloader.php ``downloader::get_student_prefix`` (>= 4.1): the same."""
    name = "Participant" if blind else moodle_fullname(user, template)
    return moodle_clean_filename(name.replace("_", " ") + "_" + str(user.participantid))


def moodle_submission_member(
    user: MoodleUser,
    filename: str,
    *,
    layout: str = "folders",
    blind: bool = False,
    version: tuple[int, int] = (4, 1),
    filepath: str = "/",
    subtype: str = "assignsubmission",
    plugintype: str = "file",
    template: str = "{firstname} {lastname}",
) -> str:
    """The zip member name Moodle gives one submitted file.

    * ``layout="folders"`` (user preference ``assign_downloadasfolders``, default 1, since 3.1):
      ``clean_filename(prefix . '_' . subtype . '_' . type)`` as the folder (>= 4.1,
      downloader::load_submissionplugin_filelist) or ``... . '_')`` with a trailing underscore
      (3.1 - 4.0, assign::download_submissions); then the file's own filepath (``/`` unless the
      student made folders) and file name; the whole passed through ``clean_param(PARAM_PATH)``.
      An ``onlinetext`` submission goes in ``folder/`` + its own name.
    * ``layout="flat"`` (the preference off; the only layout before 3.1):
      ``clean_filename(prefix . '_' . subtype . '_' . type . '_' . filename)``: no folder.
    """
    prefix = moodle_submission_prefix(user, blind=blind, template=template)
    if layout == "flat":
        return moodle_clean_filename(f"{prefix}_{subtype}_{plugintype}_{filename}")
    if layout != "folders":
        raise ValueError(f"unknown layout {layout!r}")
    trailing = "" if version >= (4, 1) else "_"
    folder = moodle_clean_filename(f"{prefix}_{subtype}_{plugintype}{trailing}")
    path = folder + filepath + filename if plugintype == "file" else folder + "/" + filename
    return moodle_clean_param_path(path)


def _write_zip(members: Iterable[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return buf.getvalue()


def moodle_submission_zip(
    students: Sequence[MoodleUser],
    files: Mapping[int, Sequence[tuple[str, bytes]]],
    *,
    layout: str = "folders",
    blind: bool = False,
    version: tuple[int, int] = (4, 1),
    template: str = "{firstname} {lastname}",
) -> bytes:
    """A "Download all submissions" zip: for each student (in the given order, Moodle's is
    ``get_enrolled_users``'), each of their files ``files[userid]`` as (name, bytes), under
    :func:`moodle_submission_member`. Two members with the same name keep the last
    (``$filesforzipping[$path] = $file``). Students without files get no entry.

    The archive: Moodle >= 3.9 streams it with ``core_files\\archive_writer`` (ZipStream-PHP);
    only file entries are written, no directory entries (download_submissions /
    downloader::download_zip add files only). Member names are UTF-8 (the zip's EFS flag);
    compression is deflate. Byte-level details of ZipStream (data descriptors, zip64 extras)
    are not reproduced: readers must not depend on them.
    """
    members: dict[str, bytes] = {}
    for s in students:
        for name, data in files.get(s.userid, ()):
            path = moodle_submission_member(
                s, name, layout=layout, blind=blind, version=version, template=template
            )
            members[path] = data
    return _write_zip(members.items())


# =========================================================================================
# Moodle: the feedback-files zip import (assignfeedback_file)
# =========================================================================================


def moodle_feedback_zip_check(
    zip_bytes: bytes,
    participants: Mapping[int, MoodleUser],
    *,
    plugins: Iterable[tuple[str, str]] = (
        ("assignsubmission", "file"),
        ("assignsubmission", "onlinetext"),
        ("assignfeedback", "file"),
    ),
) -> dict[str, tuple[MoodleUser, str, str]]:
    """Which participant each member of an uploaded feedback zip goes to.

    Re-implements mod/assign/feedback/file/importziplib.php
    ``assignfeedback_file_zip_importer::is_valid_filename_for_import``: directories and files
    whose own name starts with ``.`` or ``~`` are skipped; the path (filepath + filename) is
    split on ``/``; for each part in turn, ``explode('_', $part, 5)``; fewer than 4 pieces:
    next part; piece 1 must be numeric and a participant id (``participants`` is keyed by
    participant id, the unique id of :class:`MoodleUser`), pieces 2 and 3 a plugin
    (subtype, type) of the assignment; piece 4 (or '' for the >= 4.1 folder name) is put back
    in front of the remaining parts and the rest, joined with ``/``, is the file's name.
    Returns {member: (participant, "subtype_type", filename)}; members not listed are ignored
    by Moodle (it reports only counts).

    (``is_file_modified`` then skips files whose content hash equals the existing file of the
    same name; not modelled.) The zip is unpacked by ``zip_packer::extract_to_storage`` to
    ``/import/``: a member's leading folders become the filepath.
    """
    known = set(plugins)
    out: dict[str, tuple[MoodleUser, str, str]] = {}
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as zf:
        for info in zf.infolist():
            if info.is_dir():
                continue
            name = info.filename.rsplit("/", 1)[-1]
            if name.startswith(".") or name.startswith("~"):
                continue
            parts = info.filename.split("/")
            while parts:
                part = parts.pop(0)
                pieces = part.split("_", 4)
                if len(pieces) < 4:
                    continue
                if not _php_is_numeric(pieces[1]):
                    continue
                pid = _php_number(pieces[1])
                user = participants.get(int(pid)) if float(pid).is_integer() else None
                if user is None:
                    continue
                if (pieces[2], pieces[3]) not in known:
                    continue
                rest = pieces[4] if len(pieces) == 5 else ""
                filename = "/".join([rest, *parts])
                out[info.filename] = (user, f"{pieces[2]}_{pieces[3]}", filename)
                break
    return out


_PHP_NUMERIC = re.compile(r"^[ \t\n\r\v\f]*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?[ \t\n\r\v\f]*$")


def _php_is_numeric(s: str) -> bool:
    """PHP 8 ``is_numeric`` (leading and trailing whitespace allowed)."""
    return bool(_PHP_NUMERIC.match(s))


def _php_number(s: str) -> float:
    return float(s.strip())


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


def php_float_cast(s: str) -> float:
    """PHP ``(float)$string``: the longest leading numeric prefix (after leading whitespace),
    0.0 when there is none."""
    m = re.match(r"[ \t\n\r\v\f]*([+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?)", s)
    return float(m.group(1)) if m else 0.0


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
    if strict and not _php_is_numeric(v):
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
        if not _php_is_numeric(rest) or not float(rest).is_integer():
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
    return _write_zip(members)


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
