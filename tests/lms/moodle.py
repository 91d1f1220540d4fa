"""Moodle's rules, re-implemented from its source (the commits read: the package's
docstring): file names, users, the submissions download, the feedback-files zip import."""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from .common import php_is_numeric, php_number, write_zip

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
    return write_zip(members.items())


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
                if not php_is_numeric(pieces[1]):
                    continue
                pid = php_number(pieces[1])
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
