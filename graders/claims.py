"""Matching every submitted file to a student, and what the files matched to one student
make of them: the files to grade, flags for the instructor, or a student held when files
of two senders claim them (:func:`assign`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .matching import BY_MAP, Match, Matcher
from .results import Status, StudentResult
from .submissions import RawFile


@dataclass(frozen=True, slots=True, kw_only=True)
class Claim:
    """The files matched to one student, and what the instructor must know of them."""

    files: list[RawFile]
    """The files to grade (the latest counts); empty when :attr:`held`."""
    flags: tuple[str, ...] = ()
    """For the student's row: files matched by a name someone chose, in an LMS's download."""
    held: str = ""
    """Why no file is graded: files of two LMS identities claim the student."""


def assign(
    matcher: Matcher, files: list[RawFile], manual: Mapping[str, str]
) -> tuple[dict[str, Claim], list[StudentResult], list[str]]:
    """Match every file to a student; the files that match nobody (each with why); the
    map's lines that name no submitted file.

    A student's files must come from one identity (the LMS's, or a plain file's name):
    where two claim one student, none is graded and the student is held, each file on a
    row of its own naming the others, until the instructor maps the right one (a map
    line decides: the student's other files are then not theirs).
    """
    claimed: dict[str, list[tuple[RawFile, Match]]] = defaultdict(list)
    unmatched = []
    for f in files:
        found = matcher.match(f.as_found)
        if found.student is None:
            unmatched.append(unmatched_row(f, found.how))
        else:
            claimed[found.student.student_id].append((f, found))
    # an LMS's download of this class: some file the LMS laid out matched a student
    lms = any(m.identity not in ("", BY_MAP) for got in claimed.values() for _, m in got)
    claims = {}
    for sid, got in claimed.items():
        claims[sid], others = _claim(sid, got, lms)
        unmatched += others
    paths = {f.path for f in files}
    notices = [
        f"the map names {path[:80]!r}, which is not among the submissions"
        for path in manual
        if path not in paths
    ]
    return claims, unmatched, notices


def _claim(
    sid: str, got: Sequence[tuple[RawFile, Match]], lms: bool
) -> tuple[Claim, list[StudentResult]]:
    """What the files matched to one student make of them (:func:`assign`), and rows
    for the files that are not graded as theirs."""
    mapped = [f for f, m in got if m.identity == BY_MAP]
    if mapped:  # the instructor's word
        shown = ", ".join(f.path for f in mapped)
        why = f"the map gives {sid} {shown}: this file is not graded as theirs"
        return Claim(files=mapped), [unmatched_row(f, why) for f, m in got if m.identity != BY_MAP]
    sources: dict[str, list[RawFile]] = defaultdict(list)
    for f, m in got:
        sources[m.identity or "a file name"].append(f)
    if len(sources) > 1:
        said = "; ".join(f"{who}: {', '.join(f.path for f in fs)}" for who, fs in sources.items())
        held = (
            f"held: files of {len(sources)} senders read as {sid} ({said}); none graded: "
            "--map the one that is theirs"
        )
        why = (
            f"held, not graded: one of {len(sources)} senders' files that read as {sid} "
            f"({said}); --map it if it is theirs"
        )
        return Claim(files=[], held=held), [unmatched_row(f, why) for f, _ in got]
    ((who, fs),) = sources.items()
    if lms and who == "a file name":  # beside the LMS's files: a name someone chose
        how = " and ".join(dict.fromkeys(m.how for _, m in got))
        flag = (
            f"matched by its {how} alone, outside the LMS's layout: check that "
            f"{', '.join(f.path for f in fs)} is {sid}'s"
        )
        return Claim(files=fs, flags=(flag,)), []
    return Claim(files=fs), []


def unmatched_row(raw_file: RawFile, why: str) -> StudentResult:
    flags = (why, f"{raw_file.path}: {raw_file.name_note}") if raw_file.name_note else (why,)
    return StudentResult.of_file(Status.UNMATCHED, raw_file.path, flags)
