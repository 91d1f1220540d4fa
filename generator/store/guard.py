"""The one guard of every output: what a command may write, and what ``--force`` may replace.

Every command that writes (``generate``, ``render``, ``grade``, ``quiz``, ``send``'s
``--dry-run --out`` and ``--moodle-zip``, ``export``, ``demo``, ``templates``) asks it
before it writes, with what it reads and the layout of what it makes:

* the output is never an input, never holds one, and never lies in a folder it reads
  (the worksheet folder a command reads may hold it, as a new entry beside its parts);
* it never is, nor lies in, a worksheet folder's part (manifest, problems, keys, sheets,
  tex, the class PDFs, the send log), nor lies in any other worksheet folder;
* an existing output folder is replaced (with ``--force``) only when everything in it is
  what the same command makes (its :class:`Layout`); one path it does not make, and the
  folder is refused. An existing output file is replaced only when its content is of
  the command's making (a recogniser reads it); never through a link.

A command's output is recognised by its layout, so a folder made by an earlier version,
moved or copied, is recognised too, and no output carries a mark of its own.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.errors import InputError
from lstm_exam.generator.store.manifest import MANIFEST, WORKSHEET_PARTS

#: What a worksheet folder holds of its own: no other output may be or lie in any of it.
WORKSHEET_OWN = (*WORKSHEET_PARTS, defaults.SEND_LOG)


@dataclass(frozen=True, slots=True)
class Layout:
    """What one command writes into its output folder.

    ``paths`` are '/'-separated patterns relative to the folder (``*`` matches within one
    name, never across a ``/``); every file the command makes matches one (or is one of
    ``names``), every folder it makes leads to one. ``required``: names the folder of an
    earlier run holds at its top (a worksheet: its manifest), so that a folder of other
    things that happen to match (a folder named ``keys`` of someone's CSVs) is never
    taken for one.
    """

    command: str
    """The command, as the user types it: ``generate``, ``grade``..."""
    what: str
    """What it makes, in words: ``the worksheet``, ``the results``..."""
    paths: tuple[str, ...]
    required: tuple[str, ...] = ()
    names: Collection[str] = ()
    """Top-level file names it makes, besides ``paths`` (a class's ``<id>.eml``)."""

    _files: re.Pattern[str] = field(init=False, repr=False, compare=False)
    _folders: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        leads = {"/".join(p.split("/")[:k]) for p in self.paths for k in range(1, p.count("/") + 1)}
        object.__setattr__(self, "_files", _one_of(self.paths))
        object.__setattr__(self, "_folders", _one_of(sorted(leads)))

    def makes(self, rel: str, folder: bool) -> bool:
        """Whether the command makes the path ``rel`` ('/'-separated): a file matching a
        pattern whole, or a folder leading to one."""
        if not folder and rel in self.names:
            return True
        return (self._folders if folder else self._files).fullmatch(rel) is not None

    def stranger(self, folder: Path, only: Collection[str] | None = None) -> str | None:
        """The first path in ``folder`` (relative, '/'-separated) the command does not
        make, or None; ``only``: look at these top-level entries alone."""
        for rel, is_dir in _walk(folder, only):
            if not self.makes(rel, is_dir):
                return rel
        return None


def _one_of(patterns: Collection[str]) -> re.Pattern[str]:
    """One expression matching any of the patterns (``*``: any run of characters but ``/``)."""

    def one(p: str) -> str:
        return "[^/]*".join(re.escape(part) for part in p.split("*"))

    return re.compile("|".join(f"(?:{one(p)})" for p in patterns) or "(?!)", re.S)


def _walk(folder: Path, only: Collection[str] | None) -> Iterator[tuple[str, bool]]:
    """Every path under ``folder`` as ('/'-separated, is a folder), each folder's entries
    in the order of their names and before what they hold; links are never followed (a
    link is a name like a file's)."""
    stack: list[str] = [""]
    while stack:
        rel = stack.pop()
        with os.scandir(folder / rel if rel else folder) as it:
            entries = sorted(it, key=lambda e: e.name)
        folders = []
        for e in entries:
            if not rel and only is not None and e.name not in only:
                continue
            if not rel and of_a_run(e.name):
                continue
            is_dir = e.is_dir(follow_symlinks=False)
            path = f"{rel}/{e.name}" if rel else e.name
            yield path, is_dir
            if is_dir:
                folders.append(path)
        stack.extend(reversed(folders))


def of_a_run(name: str) -> bool:
    """A lock or staging folder of a run (:mod:`files`) at the top of a folder: the
    bookkeeping of another run, never part of what is replaced or refused."""
    return name.startswith(".") and (name.endswith((".lock", ".tmp")) or ".old-" in name)


def shown(path: str | Path) -> str:
    """A path as a one-line message may print it: bytes that are not UTF-8 as ``\\xNN``,
    a line break or another control character escaped as Python writes it."""
    text = os.fsencode(path).decode("utf-8", "backslashreplace")
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def is_worksheet(folder: Path) -> bool:
    """Whether ``folder`` is a worksheet folder (it holds a manifest)."""
    return (folder / MANIFEST).is_file()


def check_place(out: Path, inputs: Mapping[str, Path], host: Path | None = None) -> None:
    """Refuse an output (a folder or a file) that would replace or lie in what it must not.

    Args:
        out: what a run writes (and with ``--force`` replaces).
        inputs: what the run reads, by what to call it ("the worksheet folder"): ``out``
            may be none of them, hold none of them, and lie in none that is a folder ...
        host: ... but this one, the worksheet folder the run reads (where `grade` writes
            its results by default), outside its parts (:data:`WORKSHEET_OWN`).

    Any other worksheet folder ``out`` may neither be nor lie in.
    """
    target = out.resolve()
    home = host.resolve() if host is not None else None
    for what, path in inputs.items():
        src = path.resolve()
        if target == src or target in src.parents:
            raise InputError(
                shown(out), "", f"is or holds {what} ({shown(path)}): choose another folder"
            )
        if src.is_dir() and src in target.parents and src != home:
            raise InputError(
                shown(out), "", f"lies in {what} ({shown(path)}): choose another folder"
            )
    for above in target.parents:
        if not is_worksheet(above):
            continue
        if above != home:
            raise InputError(
                shown(out),
                "",
                f"lies in the worksheet folder {shown(above)}: choose another folder",
            )
        part = target.relative_to(above).parts[0]
        if part in WORKSHEET_OWN:
            what = next((w for w, p in inputs.items() if p.resolve() == home), "the worksheet")
            raise InputError(
                shown(out), "", f"would replace {part} of {what}: choose another folder"
            )


def check_into(folder: Path) -> None:
    """Refuse a folder a command writes files into, beside what it holds (`export`,
    `templates`): a worksheet folder, or one that lies in one (:func:`check_place`); each
    file is checked on its own (:func:`check_file`)."""
    if folder.exists() and not folder.is_dir():
        raise InputError(shown(folder), "", "exists and is not a folder")
    if is_worksheet(folder.resolve()):
        raise InputError(shown(folder), "", "is a worksheet folder: choose another folder")
    check_place(folder, {})


def check_folder(
    out: Path,
    layout: Layout,
    inputs: Mapping[str, Path],
    force: bool,
    host: Path | None = None,
) -> None:
    """Refuse ``out`` as the output folder of ``layout.command`` unless it may be written:
    in its place (:func:`check_place`), new or empty, or (with ``force``) holding only
    what the same command makes (:class:`Layout`)."""
    check_place(out, inputs, host)
    check_target(out, layout, force)


def check_target(out: Path, layout: Layout, force: bool) -> None:
    """The folder itself: absent, empty, or (with ``force``) the command's own."""
    if out.is_symlink() and not out.exists():
        raise InputError(shown(out), "", "is a broken link: choose another folder")
    if out.exists() and not out.is_dir():
        raise InputError(shown(out), "", "exists and is not a folder")
    above = next((p for p in out.absolute().parents if p.exists()), None)
    if above is not None and not above.is_dir():
        raise InputError(shown(above), "", "is a file, not a folder: it cannot hold the output")
    if not out.is_dir() or not _has_entries(out):
        return
    missing = [n for n in layout.required if not (out / n).exists()]
    stranger = layout.stranger(out)
    if missing or (stranger is not None and not _any_made(out, layout)):
        name = stranger if stranger is not None else _first(out)
        raise InputError(
            shown(out),
            "",
            f"is no folder `{layout.command}` made (it holds {shown(name)}, which "
            "--force would delete): choose another folder",
        )
    if stranger is not None:
        raise InputError(
            shown(out),
            "",
            f"holds {shown(stranger)} besides {layout.what}, which --force would delete: "
            "move it out first",
        )
    if not force:
        raise InputError(shown(out), "", "folder is not empty; use --force to replace it")


def _has_entries(folder: Path) -> bool:
    with os.scandir(folder) as it:
        return any(not of_a_run(e.name) for e in it)


def _first(folder: Path) -> str:
    return min((e.name for e in os.scandir(folder) if not of_a_run(e.name)), default="")


def _any_made(folder: Path, layout: Layout) -> bool:
    """Whether a top-level entry of ``folder`` is one the command makes."""
    with os.scandir(folder) as it:
        return any(
            not of_a_run(e.name) and layout.makes(e.name, e.is_dir(follow_symlinks=False))
            for e in it
        )


def check_file(
    out: Path,
    command: str,
    made: Callable[[Path], bool],
    inputs: Mapping[str, Path],
    force: bool,
    host: Path | None = None,
) -> None:
    """Refuse ``out`` as an output file of ``command`` unless it may be written: in its
    place (:func:`check_place`), new, or (with ``force``) a regular file whose content
    ``made`` recognises as the command's; never a link, a folder or anything else."""
    check_place(out, inputs, host)
    above = next((p for p in out.absolute().parents if p.exists()), None)
    if above is not None and not above.is_dir():
        raise InputError(shown(above), "", "is a file, not a folder: it cannot hold the output")
    if out.is_symlink():
        raise InputError(shown(out), "", "is a link: choose another name")
    if not out.exists():
        return
    if not out.is_file():
        raise InputError(shown(out), "", "exists and is not a file: choose another name")
    if not made(out):
        raise InputError(
            shown(out),
            "",
            f"exists and is not a file `{command}` made, which --force would replace: "
            "choose another name",
        )
    if not force:
        raise InputError(shown(out), "", "exists; use --force to replace it")


def write_file(out: Path, data: bytes) -> None:
    """Write ``out`` all at once: a new file beside it, then renamed over it (a link in
    its place is replaced, never followed; a hard link's other names keep their bytes)."""
    import tempfile

    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


#: What `generate` makes: a worksheet folder (docs/formats.md).
WORKSHEET = Layout(
    "generate",
    "the worksheet",
    (
        MANIFEST,
        "problems/*.toml",
        "answer-templates/*.csv",
        "keys/*.csv",
        "keys/*.pdf",
        "sheets/*.pdf",
        "tex/*",  # the LaTeX (and what TeX wrote beside it in an earlier version)
        "class-sheets.pdf",
        "class-key.pdf",
    ),
    required=(MANIFEST,),
)
