"""Whose file is it: a submitted path matched to one roster student, or to nobody, with
the reason. Never a guess: a file two students fit equally goes to neither.

What a path can say, strongest first:

1. a line of the instructor's ``--map`` file (``file,student_id``);
2. the LMS's own number in its download layout, where the student's number for this
   assignment is known (:class:`LmsIds`: Moodle's participant id from its grading
   worksheet, Canvas's user id from its gradebook or the roster);
3. the name the LMS wrote (a Moodle folder or file name, Canvas's ``lastfirst``),
   compared in every script after Unicode normalization and case folding, with Moodle's
   own ``clean_filename`` applied to the roster's names, in either order of the names;
4. a roster id as the file's or a folder's name (``s001.csv``, ``u2310451.csv``), also
   inside an LMS folder whose name matched nobody.

The layouts (docs/grading.md, "Matching files to students"):

* Moodle, in folders: ``Full Name_<participant>_assignsubmission_file/answers.csv``
  (older versions end the folder in ``_``); flat: ``Full Name_<participant>_
  assignsubmission_file_answers.csv``; blind marking: ``Participant_<participant>_...``;
  in team assignments the name starts with the group's, ``Group A-Full Name``;
* Canvas: ``lastfirst_<userid>_<attachmentid>_answers.csv``, ``lastfirst_late_<userid>_...``
  when late.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from lstm_exam.generator.spec.roster import Student
from lstm_exam.generator.store.lmsnames import clean_filename

#: Roster columns that hold a student's Canvas user id (the number in Canvas's names).
CANVAS_COLUMNS = ("canvas_id", "canvas_user_id", "lms_id", "lms_user_id", "user_id")
#: Roster columns that hold a student's Moodle participant id for the assignment.
PARTICIPANT_COLUMNS = ("participant_id", "moodle_participant_id")

_MOODLE = re.compile(
    r"^(?P<name>[^_]*)_(?P<num>\d+)_assign(?:submission|feedback)_(?P<plugin>[a-z0-9]+)"
    r"(?:_(?P<rest>.*))?$",
    re.S,
)
#: What follows ``lastfirst`` in a Canvas name (which may itself hold ``_``: Canvas keeps
#: letters, digits and ``_`` of the sortable name, "Doe, John_3" is ``doejohn_3``).
_CANVAS_TAIL = re.compile(r"_(?:late_)?(?P<uid>\d+)_(?P<att>\d+)_(?P<orig>.+)$", re.I | re.S)
#: Moodle's name for a student under blind marking (``Participant_1830455_...``).
_BLIND = {"participant"}


def _words(text: str) -> list[str]:
    """The words of a name in their order: Unicode-normalized, case-folded, accents off
    Latin, Greek and Cyrillic letters (never off kana or other scripts' marks)."""
    text = unicodedata.normalize("NFKD", text.casefold())
    kept = []
    base = ""
    for ch in text:
        if unicodedata.combining(ch):
            if base and ord(base) < 0x0530:  # Latin, Greek, Cyrillic: an accent
                continue
        else:
            base = ch
        kept.append(ch)
    return re.findall(r"[^\W_]+", unicodedata.normalize("NFC", "".join(kept)))


def name_key(text: str) -> str:
    """A name compared loosely in every script (:func:`_words`), the words in sorted
    order, so "Müller, Hans-Peter" is "Hans-Peter Müller"; never empty for a name with a
    letter.

    >>> name_key("Müller, Hans-Peter") == name_key("HANS PETER MULLER")
    True
    >>> name_key("Иван Петров"), name_key("王小明"), name_key("José_Núñez")
    ('иван петров', '王小明', 'jose nunez')
    """
    return " ".join(sorted(_words(text)))


def run_together(name: str) -> set[str]:
    """A name's words run together in each order that keeps them in turn, as Canvas
    writes ``lastfirst`` (which words are the last name, the roster does not say).

    >>> sorted(run_together("Ada Lovelace")), sorted(run_together("Lovelace, Ada"))
    (['adalovelace', 'lovelaceada'], ['adalovelace', 'lovelaceada'])
    """
    w = _words(name)
    return {"".join(w[k:] + w[:k]) for k in range(len(w))}


def _canvas_splits(base: str) -> list[tuple[str, str, str, str]]:
    """Each way a file name reads as Canvas's ``lastfirst_[late_]userid_attachmentid_name``:
    (lastfirst, user id, attachment id, name).

    >>> _canvas_splits("doejohn_3_5024_910025_a.csv")[1]
    ('doejohn_3', '5024', '910025', 'a.csv')
    """
    out = []
    for k, ch in enumerate(base):
        if ch == "_" and k:
            m = _CANVAS_TAIL.match(base, k)
            if m:
                out.append((base[:k], m["uid"], m["att"], m["orig"]))
    return out


def splits_for_canvas(matcher: Matcher, base: str, student_id: str) -> tuple[str, str, str] | None:
    """(lastfirst, user id, attachment id) of the file name ``base`` as Canvas wrote it for
    this student, or None when it is no Canvas name of theirs."""
    splits = _canvas_splits(base)
    for login, uid, att, _ in splits:
        if any(s.student_id == student_id for s in matcher.by_canvas.get(uid, [])):
            return login, uid, att
    for login, uid, att, _ in splits:
        found = matcher.by_login.get("".join(_words(login)), [])
        if len(found) == 1 and found[0].student_id == student_id:
            return login, uid, att
    return None


def column_value(extra: Mapping[str, str], columns: Sequence[str]) -> str:
    """The first of ``columns`` a roster row fills (spaces aside), or empty.

    >>> column_value({"lms_id": " ", "user_id": "42 "}, CANVAS_COLUMNS)
    '42'
    """
    return next((v for c in columns if (v := extra.get(c, "").strip())), "")


@dataclass(frozen=True, slots=True)
class LmsIds:
    """Each student's numbers in the LMS for this assignment, by student id."""

    participant: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Moodle's participant id (the number in its download's names)."""
    canvas: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Canvas's user id."""

    @staticmethod
    def from_roster(students: Iterable[Student]) -> LmsIds:
        """The numbers the roster's own columns hold."""
        part, canvas = {}, {}
        for s in students:
            if n := column_value(s.extra, PARTICIPANT_COLUMNS):
                part[s.student_id] = n
            if n := column_value(s.extra, CANVAS_COLUMNS):
                canvas[s.student_id] = n
        return LmsIds(MappingProxyType(part), MappingProxyType(canvas))

    def merged(self, other: LmsIds) -> LmsIds:
        """These numbers with ``other``'s added (``other``'s win: an LMS export is newer)."""
        return LmsIds(
            MappingProxyType({**self.participant, **other.participant}),
            MappingProxyType({**self.canvas, **other.canvas}),
        )


@dataclass(frozen=True, slots=True)
class Match:
    """Whose a file is."""

    student: Student | None
    how: str
    """How it was matched ("Moodle folder, participant 1830455"), or why not."""


def _index(pairs: Iterable[tuple[str, Student]]) -> dict[str, list[Student]]:
    out: dict[str, list[Student]] = {}
    for key, s in pairs:
        if key:
            ss = out.setdefault(key, [])
            if s not in ss:
                ss.append(s)
    return out


class Matcher:
    """Finds whose file a submitted path is (the module's rules, in their order)."""

    def __init__(
        self,
        students: Sequence[Student],
        ids: LmsIds | None = None,
        manual: Mapping[str, str] | None = None,
    ) -> None:
        self.by_id = {s.student_id.lower(): s for s in students}
        ids = LmsIds.from_roster(students).merged(ids or LmsIds())
        by_sid = {s.student_id: s for s in students}
        self.by_participant = _index((n, by_sid[sid]) for sid, n in ids.participant.items())
        self.by_canvas = _index((n, by_sid[sid]) for sid, n in ids.canvas.items())
        self.by_name = _index(
            (key, s)
            for s in students
            if s.name
            for key in {name_key(s.name), name_key(clean_filename(s.name))}
        )
        self.by_login = _index((key, s) for s in students if s.name for key in run_together(s.name))
        self.manual = {path: by_sid[sid] for path, sid in (manual or {}).items()}

    def match(self, path: str) -> Match:
        """The student (or None) and how the path was matched, or why it was not."""
        if path in self.manual:
            return Match(self.manual[path], "the --map file")
        parts = path.split("/")
        base = parts[-1]
        stem = base.rsplit(".", 1)[0] if "." in base else base
        # the LMS's layout says who submitted; a file's own name is only the student's choice
        for k, part in enumerate(parts):
            m = _MOODLE.match(part)
            if m and (k < len(parts) - 1 or m["rest"]):
                inner = m["rest"] if k == len(parts) - 1 else parts[-1]
                return self._moodle(m["name"], m["num"], inner)
        if stem.lower() in self.by_id:  # a roster id may look like a Canvas name
            return Match(self.by_id[stem.lower()], "file name")
        splits = _canvas_splits(base)
        if splits:
            return self._canvas(splits)
        for folder in parts[:-1]:
            if folder.lower() in self.by_id:
                return Match(self.by_id[folder.lower()], "folder name")
        found = self._one(self.by_name.get(name_key(stem), []), "file name")
        if found is not None:
            return found
        return Match(None, f"file {path} matches no student on the roster")

    @staticmethod
    def _one(candidates: Sequence[Student], how: str) -> Match | None:
        if len(candidates) == 1:
            return Match(candidates[0], how)
        if len(candidates) > 1:
            both = " and ".join(s.student_id for s in candidates)
            return Match(None, f"the {how} fits {both} equally: matched to neither")
        return None

    def _moodle(self, name: str, number: str, inner: str) -> Match:
        found = self._one(self.by_participant.get(number, []), f"Moodle participant {number}")
        if found is not None:
            return found
        if name.strip().casefold() in _BLIND:
            return Match(
                None,
                f"Moodle folder of participant {number} under blind marking names no "
                "student: pass the assignment's grading worksheet (--moodle-worksheet)",
            )
        # a team assignment puts the group's name first: "Group A-Ada Lovelace"
        tried = [name] + [name[k + 1 :] for k, ch in enumerate(name) if ch == "-"]
        for text in tried:
            found = self._one(self.by_name.get(name_key(text), []), f"Moodle name {name!r}")
            if found is not None:
                return found
        # the words run together: Moodle's "小明 王" (first name, last name) is the
        # roster's "王小明"
        together = {
            s.student_id: s for key in run_together(name) for s in self.by_login.get(key, [])
        }
        found = self._one(list(together.values()), f"Moodle name {name!r}")
        if found is not None:
            return found
        stem = inner.rsplit(".", 1)[0] if "." in inner else inner
        if stem.lower() in self.by_id:
            return Match(self.by_id[stem.lower()], "file name inside a Moodle folder")
        return Match(
            None,
            f"Moodle name {name!r} (participant {number}) matches no student on the roster",
        )

    def _canvas(self, splits: Sequence[tuple[str, str, str, str]]) -> Match:
        """``splits``: :func:`_canvas_splits`."""
        for _login, uid, _att, _orig in splits:
            found = self._one(self.by_canvas.get(uid, []), f"Canvas user {uid}")
            if found is not None:
                return found
        for login, _uid, _att, _orig in splits:
            if login.lower() in self.by_id:  # a class whose Canvas names are its ids
                return Match(self.by_id[login.lower()], "Canvas name")
        for login, _uid, _att, _orig in splits:
            found = self._one(
                self.by_login.get("".join(_words(login)), []), f"Canvas name {login!r}"
            )
            if found is not None:
                return found
        for _login, _uid, _att, orig in splits:
            stem = orig.rsplit(".", 1)[0] if "." in orig else orig
            if stem.lower() in self.by_id:
                return Match(self.by_id[stem.lower()], "file name inside a Canvas name")
        login, uid, _, _ = splits[0]
        return Match(None, f"Canvas name {login!r} (user {uid}) matches no student on the roster")
