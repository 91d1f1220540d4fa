"""The keyed stream every random number comes from.

HMAC-SHA256 keyed with the worksheet's secret seed over (worksheet, student id,
problem, draw): the same spec, seed and id give the same numbers on any machine and
any numpy version, and what a student sees reveals neither the seed nor another
student's numbers.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import struct
from collections.abc import Sequence
from typing import Any, TypeVar

STREAM_VERSION = "lstm-exam/1"


T = TypeVar("T")


class Stream:
    """A deterministic stream of random integers from HMAC-SHA256 in counter mode."""

    def __init__(self, seed: str, *parts: str) -> None:
        self._inner, self._outer = _hmac_pads(seed)
        self._inner = self._inner.copy()
        self._inner.update("\x1f".join((STREAM_VERSION, *parts)).encode("utf-8") + b"\x1e")
        self._counter = 0
        self._words: list[int] = []

    def _refill(self) -> list[int]:
        """The next blocks, HMAC-SHA256(seed, message + counter), as words used last first.

        HMAC (RFC 2104) from the hashes of its padded keys, each computed once: a
        third of the time of ``hmac.digest``, and the same bytes (tests check this).
        Two blocks at a time: the words come out in the same order, for less work.
        The words go into the stream's one list (empty when refilled), so a bound
        ``pop`` of it stays valid.
        """
        counter = self._counter
        later = self._inner.copy()  # popped from the end: the later block first
        later.update(_counter_bytes(counter + 1))
        outer_later = self._outer.copy()
        outer_later.update(later.digest())
        now = self._inner.copy()
        now.update(_counter_bytes(counter))
        outer_now = self._outer.copy()
        outer_now.update(now.digest())
        self._counter = counter + 2
        self._words[:] = _WORDS.unpack(outer_later.digest() + outer_now.digest())
        return self._words

    def below(self, count: int) -> int:
        """A uniform integer in [0, n), by rejection (no modulo bias)."""
        limit = _WORD - _WORD % count
        words = self._words
        while True:
            r = (words or self._refill()).pop()
            if r < limit:
                return r % count

    def pick(self, count: int, grid: Sequence[T], zeros: int, zero: T, avoid: int = -1) -> list[T]:
        """n entries of ``grid``, each uniform, as ``grid[below(len(grid))]``.

        Before each, with chance ``zeros`` / 2**30, ``zero`` instead; the entry at
        ``avoid`` is drawn again. The same numbers as ``below`` calls, inlined:
        drawing is most of a search's time.
        """
        span = len(grid)
        limit = _WORD - _WORD % span
        words = self._words
        pop, refill = words.pop, self._refill
        out = []
        for _ in range(count):
            if zeros:  # below(2**30): never rejected, 2**64 being a multiple of 2**30
                if not words:
                    refill()
                if pop() % (1 << 30) < zeros:
                    out.append(zero)
                    continue
            while True:
                if not words:
                    refill()
                r = pop()
                if r < limit:
                    r %= span
                    if r != avoid:
                        break
            out.append(grid[r])
        return out


_WORD = 1 << 64


_WORDS = struct.Struct(">8Q")  # two blocks of four


@functools.lru_cache(maxsize=64)
def _hmac_pads(seed: str) -> tuple[Any, Any]:
    """SHA-256 started on the key XOR ipad and on the key XOR opad (RFC 2104)."""
    key = seed.encode("utf-8")
    if len(key) > _SHA256_BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_SHA256_BLOCK, b"\0")
    return (
        hashlib.sha256(bytes(b ^ 0x36 for b in key)),
        hashlib.sha256(bytes(b ^ 0x5C for b in key)),
    )


_SHA256_BLOCK = 64


_COUNTERS = tuple(c.to_bytes(8, "big") for c in range(1024))


def _counter_bytes(counter: int) -> bytes:
    """The counter as HMAC's message ends with it: 8 bytes, big-endian."""
    return _COUNTERS[counter] if counter < len(_COUNTERS) else counter.to_bytes(8, "big")


def variant_code(seed: str, worksheet: str, student_id: str) -> str:
    """The short code a sheet shows: 8 characters, from a keyed hash.

    It identifies the variant for the instructor; it reveals nothing of the seed.
    """
    mac = hmac.new(
        seed.encode(),
        f"{STREAM_VERSION}\x1fcode\x1f{worksheet}\x1f{student_id}".encode(),
        hashlib.sha256,
    ).digest()
    code = base64.b32encode(mac[:5]).decode("ascii")
    return f"{code[:4]}-{code[4:]}"


def stream_blocks(seed: str, parts: tuple[str, ...], count: int) -> bytes:
    """The first ``count`` blocks of ``Stream(seed, *parts)``, HMAC-SHA256(seed, message +
    counter) for counters 0 to ``count - 1``, one after the other (a stream uses each
    block's four words last first).

    PBKDF2-HMAC-SHA256 with one iteration is these very blocks from counter 1 on (its
    block i is HMAC(key, salt + i as 4 bytes), and a salt ending in four zero bytes makes
    the message end with the 8-byte counter): one call for all of them, in C.
    """
    message = "\x1f".join((STREAM_VERSION, *parts)).encode("utf-8") + b"\x1e"
    key = seed.encode("utf-8")
    inner, outer = _hmac_pads(seed)
    inner, outer = inner.copy(), outer.copy()
    inner.update(message + _counter_bytes(0))
    outer.update(inner.digest())
    first = outer.digest()
    if count <= 1:
        return first[: 32 * count]
    return first + hashlib.pbkdf2_hmac("sha256", key, message + bytes(4), 1, 32 * (count - 1))
