"""Opening a zip of submissions whatever its names: a name flagged UTF-8 that is not
(which Python's zipfile refuses for the whole zip), or one in code page 437."""

from __future__ import annotations

import bisect
import io
import struct
import zipfile
from pathlib import Path
from typing import Any

#: General-purpose flag bit 11: the name is UTF-8 (APPNOTE 4.4.4).
_UTF8_FLAG = 0x800


def member_name(info: zipfile.ZipInfo, invalid: frozenset[bytes]) -> tuple[str, str]:
    """A member's name as found (a byte that is not UTF-8 held as a lone surrogate) and
    a note when it is not UTF-8 text.

    A name flagged UTF-8 is UTF-8 (its bad bytes escaped); an unflagged one is UTF-8
    when its bytes are (as Linux's and macOS's zip tools write, without the flag), else
    code page 437, as the zip standard says (and Windows' own zip writes, in the local
    code page).
    """
    if info.flag_bits & _UTF8_FLAG:
        return info.filename, ""
    raw = info.orig_filename.encode("cp437")  # zipfile read the bytes as cp437: undone
    if raw in invalid:  # flagged UTF-8, and it is not: its bytes escaped
        return raw.decode("utf-8", "surrogateescape"), ""
    try:
        return raw.decode("utf-8"), ""
    except UnicodeDecodeError:
        return info.filename, "its name is not UTF-8: read in code page 437, as zip says"


class SubmissionZip(zipfile.ZipFile):
    """A zip opened by :func:`open_zip`: the names flagged UTF-8 that are not, and the
    file it opened itself (closed with it)."""

    invalid: frozenset[bytes] = frozenset()
    owned: io.RawIOBase | None = None

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self.owned is not None:
                self.owned.close()


def open_zip(source: Path) -> SubmissionZip:
    """A zip of submissions, opened even when a name flagged UTF-8 is not UTF-8 (which
    Python's zipfile refuses for the whole zip): such a name's flag is cleared as it is
    read (in memory, never in the file), so that it reads as bytes.

    Raises:
        zipfile.BadZipFile, OSError: for a damaged zip.
    """
    try:
        return SubmissionZip(source)
    except UnicodeDecodeError:
        pass
    fh = open(source, "rb", buffering=0)  # noqa: SIM115 (closed with the zip)
    try:
        patches, invalid = _bad_names(fh)
        patched = _Patched(fh, patches)
        z = SubmissionZip(patched)
    except BaseException:
        fh.close()
        raise
    z.invalid, z.owned = invalid, patched
    return z


_EOCD = struct.Struct("<4s4H2LH")
_EOCD64_LOCATOR = struct.Struct("<4sLQL")
_EOCD64 = struct.Struct("<4sQ2H2L4Q")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")


def _bad_names(handle: io.RawIOBase) -> tuple[dict[int, int], frozenset[bytes]]:
    """Where the UTF-8 flags of the names flagged UTF-8 that are not UTF-8 are, in the
    central directory and in each local header: {offset of the flags' high byte: that
    byte without bit 11}; and those names' bytes (APPNOTE 4.3.12, 4.3.7, 4.3.16)."""

    def at(offset: int, size: int) -> bytes:
        handle.seek(offset)
        data = handle.read(size) or b""
        if len(data) != size:
            raise zipfile.BadZipFile("truncated zip")
        return data

    end = handle.seek(0, 2)
    tail_size = min(end, _EOCD.size + 0xFFFF)
    tail = at(end - tail_size, tail_size)
    found = tail.rfind(b"PK\x05\x06")
    if found < 0 or found + _EOCD.size > len(tail):
        raise zipfile.BadZipFile("no end of central directory")
    eocd = end - tail_size + found
    *_, cd_size, cd_offset, _ = _EOCD.unpack_from(tail, found)
    concat = eocd - cd_size - cd_offset
    if cd_offset == 0xFFFFFFFF or cd_size == 0xFFFFFFFF:
        sig, _, z64, _ = _EOCD64_LOCATOR.unpack(at(eocd - _EOCD64_LOCATOR.size, 20))
        if sig != b"PK\x06\x07":
            raise zipfile.BadZipFile("no zip64 end of central directory")
        *_, cd_size, cd_offset = _EOCD64.unpack(at(z64, _EOCD64.size))
        concat = eocd - cd_size - cd_offset - _EOCD64.size - _EOCD64_LOCATOR.size
    if not 0 <= cd_size <= end:
        raise zipfile.BadZipFile("a central directory larger than the zip")
    start = cd_offset + concat
    cd = at(start, cd_size)
    patches: dict[int, int] = {}
    invalid: set[bytes] = set()
    pos = 0
    while pos + _CENTRAL.size <= len(cd) and cd.startswith(b"PK\x01\x02", pos):
        head = _CENTRAL.unpack_from(cd, pos)
        flags, n_name, n_extra, n_comment, local = head[5], head[12], head[13], head[14], head[18]
        name = cd[pos + _CENTRAL.size : pos + _CENTRAL.size + n_name]
        if flags & _UTF8_FLAG and not _is_utf8(name):
            invalid.add(name)
            patches[start + pos + 9] = (flags >> 8) & ~(_UTF8_FLAG >> 8)
            if local == 0xFFFFFFFF:
                extra = cd[pos + _CENTRAL.size + n_name : pos + _CENTRAL.size + n_name + n_extra]
                local = _zip64_offset(extra, head[10], head[11])
            if local is not None:
                (local_flags,) = struct.unpack("<H", at(local + concat + 6, 2))
                patches[local + concat + 7] = (local_flags >> 8) & ~(_UTF8_FLAG >> 8)
        pos += _CENTRAL.size + n_name + n_extra + n_comment
    return patches, frozenset(invalid)


def _is_utf8(name: bytes) -> bool:
    try:
        name.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _zip64_offset(extra: bytes, compressed: int, size: int) -> int | None:
    """The local header's offset in a central entry's zip64 extra field (APPNOTE 4.5.3)."""
    k = 0
    while k + 4 <= len(extra):
        kind, n = struct.unpack_from("<2H", extra, k)
        if kind == 1:
            skip = 8 * ((size == 0xFFFFFFFF) + (compressed == 0xFFFFFFFF))
            if skip + 8 <= n:
                (offset,) = struct.unpack_from("<Q", extra, k + 4 + skip)
                return int(offset)
            return None
        k += 4 + n
    return None


class _Patched(io.RawIOBase):
    """A file read with a few bytes replaced (:func:`_bad_names`)."""

    def __init__(self, handle: io.RawIOBase, patches: dict[int, int]) -> None:
        self._fh = handle
        self._patches = patches
        self._at = sorted(patches)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._fh.seek(offset, whence)

    def tell(self) -> int:
        return self._fh.tell()

    def readinto(self, buffer: Any) -> int:
        start = self._fh.tell()
        n = self._fh.readinto(buffer) or 0
        for k in range(bisect.bisect_left(self._at, start), len(self._at)):
            offset = self._at[k]
            if offset >= start + n:
                break
            buffer[offset - start] = self._patches[offset]
        return n

    def close(self) -> None:
        self._fh.close()
        super().close()
