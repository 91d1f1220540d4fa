"""Whose file is it: a submitted path matched to one roster student, or to nobody, with
the reason. Never a guess: a file two students fit equally goes to neither, and the name
a student chose for their file never decides against what the LMS says.

What a path can say, strongest first:

1. a line of the instructor's ``--map`` file (``file,student_id``);
2. the LMS's own number in its download layout, where the student's number for this
   assignment is known (:class:`LmsIds`: Moodle's participant id from its grading
   worksheet, Canvas's user id from its gradebook or the roster);
3. the name the LMS wrote (a Moodle folder or file name, Canvas's ``lastfirst``),
   compared in every script after Unicode normalization and case folding, with Moodle's
   own ``clean_filename`` applied to the roster's names, in either order of the names;
   never to a student whose number for the assignment is known and is another; a team's
   group prefix is taken off only for a student the roster or the worksheet puts in
   that group. Inside an LMS folder or Canvas name nothing else counts: an LMS name that
   fits nobody leaves the file unmatched, whatever the file inside is called;
4. where no LMS laid the path out, a roster id as the file's or a folder's name
   (``s001.csv``, ``s001/answers.csv``) or a roster name as the file's; names that say
   two students match neither.

:attr:`Match.identity` says which LMS identity a file came with, so that the driver can
hold a student whom two identities feed (:mod:`run`).

The layouts (docs/grading.md, "Matching files to students"):

* Moodle, in folders: ``Full Name_<participant>_assignsubmission_file/answers.csv``
  (older versions end the folder in ``_``); flat: ``Full Name_<participant>_
  assignsubmission_file_answers.csv``; blind marking: ``Participant_<participant>_...``;
  in team assignments of old versions the name starts with the group's, ``Group A-Full
  Name``;
* Canvas: ``lastfirst_<userid>_<attachmentid>_answers.csv``, ``lastfirst_late_<userid>_...``
  when late.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from lstm_exam.generator.core.textfiles import legible, shown_name
from lstm_exam.generator.spec.roster import Student
from lstm_exam.generator.store.lmsnames import clean_filename

#: Roster columns that hold a student's Canvas user id (the number in Canvas's names).
CANVAS_COLUMNS = ("canvas_id", "canvas_user_id", "lms_id", "lms_user_id", "user_id")
#: Roster columns that hold a student's Moodle participant id for the assignment.
PARTICIPANT_COLUMNS = ("participant_id", "moodle_participant_id")
#: Roster columns that hold a student's group (team): Moodle's worksheet calls it ``Team``.
GROUP_COLUMNS = ("group", "team")

_MOODLE = re.compile(
    r"^(?P<name>[^_]*)_(?P<num>\d+)_assign(?:submission|feedback)_(?P<plugin>[a-z0-9]+)"
    r"(?:_(?P<rest>.*))?$",
    re.S,
)
#: A Moodle *folder*: Moodle's ``clean_filename`` of a full name keeps ``_`` ("Rob_Stone"),
#: so the name is the shortest text before ``_<digits>_assign``. Only a folder, which no
#: student names (Canvas makes none); a file's name keeps ``[^_]*``, or a Canvas name whose
#: student-chosen part reads ``Ada_1001_assignsubmission_file_x.csv`` would be Moodle's.
_MOODLE_FOLDER = re.compile(
    r"^(?P<name>.*?)_(?P<num>[0-9]+)_assign(?:submission|feedback)_(?P<plugin>[a-z0-9]+)"
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


@dataclass(frozen=True, slots=True, kw_only=True)
class LmsIds:
    """Each student's numbers in the LMS for this assignment, by student id."""

    participant: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Moodle's participant id (the number in its download's names)."""
    canvas: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Canvas's user id."""
    group: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """The student's group (team), where the roster or the grading worksheet shows one:
    the only evidence that lets a Moodle name's group prefix be taken off."""

    @staticmethod
    def from_roster(students: Iterable[Student]) -> LmsIds:
        """The numbers the roster's own columns hold."""
        part, canvas, group = {}, {}, {}
        for s in students:
            if n := column_value(s.extra, PARTICIPANT_COLUMNS):
                part[s.student_id] = n
            if n := column_value(s.extra, CANVAS_COLUMNS):
                canvas[s.student_id] = n
            if n := column_value(s.extra, GROUP_COLUMNS):
                group[s.student_id] = n
        return LmsIds(
            participant=MappingProxyType(part),
            canvas=MappingProxyType(canvas),
            group=MappingProxyType(group),
        )

    def merged(self, other: LmsIds) -> LmsIds:
        """These numbers with ``other``'s added (``other``'s win: an LMS export is newer)."""
        return LmsIds(
            participant=MappingProxyType({**self.participant, **other.participant}),
            canvas=MappingProxyType({**self.canvas, **other.canvas}),
            group=MappingProxyType({**self.group, **other.group}),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Match:
    """Whose a file is."""

    student: Student | None
    how: str
    """How it was matched ("Moodle participant 1830455"), or why not."""
    identity: str = ""
    """Who the LMS says sent the file ("Moodle participant 1830455", "Canvas user 1001"),
    "--map" for the instructor's map; empty where the LMS names nobody (a plain file or
    folder, matched by the name someone chose)."""


#: Where the instructor's map decided (:attr:`Match.identity`).
BY_MAP = "--map"


def _index(pairs: Iterable[tuple[str, Student]]) -> dict[str, list[Student]]:
    out: dict[str, list[Student]] = {}
    for key, s in pairs:
        if key:
            ss = out.setdefault(key, [])
            if s not in ss:
                ss.append(s)
    return out


def _stem(base: str) -> str:
    return base.rsplit(".", 1)[0] if "." in base else base


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
        self.participant = dict(ids.participant)
        self.canvas = dict(ids.canvas)
        self.by_participant = _index((n, by_sid[sid]) for sid, n in ids.participant.items())
        self.by_canvas = _index((n, by_sid[sid]) for sid, n in ids.canvas.items())
        self.by_name = _index(
            (key, s)
            for s in students
            if s.name
            for key in {name_key(s.name), name_key(clean_filename(s.name))}
        )
        self.by_login = _index((key, s) for s in students if s.name for key in run_together(s.name))
        self.groups = {
            sid: {name_key(g), name_key(clean_filename(g))} - {""}
            for sid, g in ids.group.items()
            if sid in by_sid
        }
        self.manual = {path: by_sid[sid] for path, sid in (manual or {}).items()}

    def match(self, path: str) -> Match:
        """The student (or None) and how the path was matched, or why it was not.

        ``path`` as found: a byte that is not UTF-8 held as a lone surrogate (such a part
        is never compared as a name); the map and every text of the answer use its
        :func:`shown_name`.
        """
        shown = shown_name(path)
        if shown in self.manual:
            return Match(student=self.manual[shown], how="the --map file", identity=BY_MAP)
        found = self._match(path)
        how = shown_name(found.how)
        return found if how is found.how else replace(found, how=how)

    def _match(self, path: str) -> Match:
        parts = path.split("/")
        base = parts[-1]
        # the LMS's layout says who submitted; the names inside it are the student's choice
        for k, part in enumerate(parts):
            m = (_MOODLE if k == len(parts) - 1 else _MOODLE_FOLDER).match(part)
            if m and (k < len(parts) - 1 or m["rest"]):
                inner = m["rest"] if k == len(parts) - 1 else parts[-1]
                return self._moodle(m["name"], m["num"], inner)
        if _stem(base).lower() in self.by_id:  # a roster id may look like a Canvas name
            return self._plain(parts)
        splits = _canvas_splits(base)
        if splits:
            return self._canvas(splits)
        return self._plain(parts)

    def _plain(self, parts: Sequence[str]) -> Match:
        """A path no LMS laid out: the file's and the folders' names, each a roster id
        or the file's a roster name; they must not name two students."""
        said: list[tuple[str, Student]] = []
        stem = _stem(parts[-1])
        if len(parts) == 1 and stem.lower() in self.by_id:  # the usual s001.csv
            return Match(student=self.by_id[stem.lower()], how="file name")
        if stem.lower() in self.by_id:
            said.append(("file name", self.by_id[stem.lower()]))
        else:
            ss = self.by_name.get(name_key(stem), []) if legible(stem) else []
            if len(ss) > 1:
                both = " and ".join(s.student_id for s in ss)
                return Match(
                    student=None, how=f"the file name fits {both} equally: matched to neither"
                )
            said += [("file name", s) for s in ss]
        said += [
            ("folder name", self.by_id[f.lower()]) for f in parts[:-1] if f.lower() in self.by_id
        ]
        named = list(dict.fromkeys(s.student_id for _, s in said))
        # a folder named after a roster name ("Marie Smith/s002.csv", mail sorted by
        # sender) is evidence against the file's own name: never a match on its own
        named += [
            s.student_id
            for f in parts[:-1]
            if named and f.lower() not in self.by_id and legible(f)
            for s in self.by_name.get(name_key(f), [])
            if s.student_id not in named
        ]
        if len(named) > 1:
            return Match(
                student=None,
                how=f"its names say {' and '.join(named)}: matched to neither (--map it)",
            )
        if said:
            return Match(student=said[0][1], how=said[0][0])
        return Match(student=None, how=f"file {'/'.join(parts)} matches no student on the roster")

    @staticmethod
    def _one(candidates: Sequence[Student], how: str, identity: str) -> Match | None:
        if len(candidates) == 1:
            return Match(student=candidates[0], how=how, identity=identity)
        if len(candidates) > 1:
            both = " and ".join(s.student_id for s in candidates)
            return Match(
                student=None,
                how=f"the {how} fits {both} equally: matched to neither",
                identity=identity,
            )
        return None

    def _own_name(self, inner: str) -> str:
        """What an unmatched LMS file's own name suggests, for the instructor only."""
        s = self.by_id.get(_stem(inner.rsplit("/", 1)[-1]).lower())
        if s is None:
            return ""
        return (
            f"; its own name reads {s.student_id}, which is never taken against the LMS's "
            "(--map it if it is theirs)"
        )

    def _moodle(self, name: str, number: str, inner: str) -> Match:
        identity = f"Moodle participant {number}"
        found = self._one(self.by_participant.get(number, []), identity, identity)
        if found is not None:
            return found
        # blind marking, in a team assignment after the group's name ("Team 4-Participant")
        if name.rsplit("-", 1)[-1].strip().casefold() in _BLIND:
            return Match(
                student=None,
                how=f"Moodle folder of participant {number} under blind marking names no "
                "student: pass the assignment's grading worksheet (--moodle-worksheet)",
                identity=identity,
            )
        unmatched = Match(
            student=None,
            how=f"Moodle name {name!r} (participant {number}) matches no student on the roster"
            + self._own_name(inner),
            identity=identity,
        )
        if not legible(name):
            return replace(
                unmatched,
                how=f"Moodle name '{shown_name(name)}' (participant {number}) is not UTF-8: "
                "only its participant id can say whose it is (--moodle-worksheet), or --map it",
            )
        # a student whose participant id is known is some other participant's namesake
        other: list[Student] = []

        def free(students: Iterable[Student]) -> list[Student]:
            keep = [s for s in students if self.participant.get(s.student_id, number) == number]
            other.extend(s for s in students if s not in keep)
            return keep

        def tries() -> Iterator[list[Student]]:  # lazily: most names match at once
            yield free(self.by_name.get(name_key(name), []))
            # a team assignment puts the group's name first ("Group A-Ada Lovelace"):
            # taken off only where the roster or the worksheet says the student is in it
            for k, ch in enumerate(name if self.groups else ""):
                if ch == "-" and k:
                    group = name_key(name[:k])
                    yield [
                        s
                        for s in free(self.by_name.get(name_key(name[k + 1 :]), []))
                        if group in self.groups.get(s.student_id, ())
                    ]
            # the words run together: Moodle's "小明 王" (first name, last name) is the
            # roster's "王小明"
            together = {
                s.student_id: s for key in run_together(name) for s in self.by_login.get(key, [])
            }
            yield free(list(together.values()))

        for candidates in tries():
            found = self._one(candidates, f"Moodle name {name!r}", identity)
            if found is not None:
                return found
        if other:
            shown = ", ".join(
                f"{sid} (participant {self.participant[sid]})"
                for sid in dict.fromkeys(s.student_id for s in other)
            )
            return replace(
                unmatched,
                how=f"Moodle name {name!r} is participant {number}, not {shown}: matched to nobody",
            )
        return unmatched

    def _canvas(self, splits: Sequence[tuple[str, str, str, str]]) -> Match:
        """``splits``: :func:`_canvas_splits`, the shortest ``lastfirst`` first.

        Only the first reading's user id is the LMS's alone: in a later one the id comes
        from further right, where the student's own file name may have put it
        (``stonerobert_2077_99_ada_1001_5_x.csv``), so its ``lastfirst`` must be the
        student's name too (as in "Doe, John_3": ``doejohn_3_5024_910025_a.csv``).
        """
        for n, (login, uid, _att, _orig) in enumerate(splits):
            identity = f"Canvas user {uid}"
            ss = self.by_canvas.get(uid, [])
            if n:
                key = "".join(_words(login)) if legible(login) else ""
                ss = [s for s in ss if s in self.by_login.get(key, ())]
            found = self._one(ss, identity, identity)
            if found is not None:
                return found
        other: list[Student] = []
        for login, uid, _att, _orig in splits:
            if not legible(login):
                continue
            ss = self.by_login.get("".join(_words(login)), [])
            keep = [s for s in ss if self.canvas.get(s.student_id, uid) == uid]
            other += [s for s in ss if s not in keep]
            found = self._one(keep, f"Canvas name {login!r}", f"Canvas user {uid}")
            if found is not None:
                return found
        login, uid, _, orig = splits[0]
        if other:
            shown = ", ".join(
                f"{sid} (user {self.canvas[sid]})"
                for sid in dict.fromkeys(s.student_id for s in other)
            )
            why = f"Canvas name {login!r} is user {uid}, not {shown}: matched to nobody"
        else:
            why = (
                f"Canvas name {login!r} (user {uid}) matches no student on the roster"
                + self._own_name(orig)
            )
        return Match(student=None, how=why, identity=f"Canvas user {uid}")
