"""Drawing one problem for many streams at once: the same givens, stream by stream, as
:func:`draw.draw_problem` on each stream, with numpy over the streams.

A draw is a fixed sequence of picks (:func:`draw.draw_plan`); only how many words each
pick takes varies (a zero takes one, a value one more, a refused word one more again).
So every stream's words are made at once (:func:`stream.stream_blocks`, in C) and the
picks walk all the streams together, entry by entry, each stream at its own place in its
words. Drawing was most of a class search's time; this makes it a small part.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from decimal import Decimal
from types import MappingProxyType

import numpy as np

from lstm_exam.generator.core.notation import Kind
from lstm_exam.generator.core.problem import Problem
from lstm_exam.generator.spec.worksheet import ProblemSpec
from lstm_exam.generator.variants.draw import Call, draw_plan, draw_problem
from lstm_exam.generator.variants.stream import Stream, stream_blocks

_WORD = 1 << 64
_LOW30 = np.uint64((1 << 30) - 1)


def draw_problems(
    spec: ProblemSpec, decimals: int, seed: str, streams: Sequence[tuple[str, ...]]
) -> list[Problem]:
    """``[draw_problem(spec, decimals, Stream(seed, *parts)) for parts in streams]``,
    the same problems, drawn together."""
    if spec.kind is Kind.PARAMETERS or not streams:  # a few ``below`` calls: drawn alone
        return [draw_problem(spec, decimals, Stream(seed, *parts)) for parts in streams]
    plan = draw_plan(spec)
    calls = [call for given in plan for call in given.rows]
    words = Words(seed, streams, sum(c.n * (2 if c.chance else 1) for c in calls))
    # each call's picks as one tuple a stream; a matrix's rows zipped into one a stream
    picked = iter([list(map(tuple, _table(c.grid, c.zero)[words.pick(c)].tolist())) for c in calls])
    columns = []
    for given in plan:
        rows = [next(picked) for _ in given.rows]
        columns.append(list(zip(*rows, strict=True)) if given.matrix else rows[0])
    names = [given.name for given in plan]
    return [
        Problem(
            spec.kind,
            MappingProxyType(dict(zip(names, values, strict=True))),
            decimals,
            spec.show_steps,
        )
        for values in zip(*columns, strict=True)
    ]


@functools.lru_cache(maxsize=256)
def _table(grid: tuple[Decimal, ...], zero: Decimal) -> np.ndarray:
    """The grid's entries and, last (index -1), the zero: what picked indices stand for."""
    table = np.empty(len(grid) + 1, dtype=object)
    table[:-1] = grid
    table[-1] = zero
    return table


class Words:
    """Many streams' words, each in the order its ``Stream`` uses them, and where each
    stream is in its own."""

    def __init__(self, seed: str, streams: Sequence[tuple[str, ...]], expected: int) -> None:
        self._seed = seed
        self._streams = streams
        blocks = max(1, -(-expected // 4))
        made = b"".join([stream_blocks(seed, parts, blocks) for parts in streams])
        self._words = _in_use_order(made, len(streams), blocks)
        self._have = np.full(len(streams), 4 * blocks, dtype=np.int64)
        self._at = np.zeros(len(streams), dtype=np.int64)
        self._rows = np.arange(len(streams))

    def _ensure(self, reading: np.ndarray, count: int = 1) -> None:
        """Every stream ``reading`` has ``count`` more words (made twice as many if not)."""
        for k in np.flatnonzero(reading & (self._at + count > self._have)).tolist():
            blocks = -(-2 * int(self._at[k] + count) // 4)
            more = _in_use_order(stream_blocks(self._seed, self._streams[k], blocks), 1, blocks)[0]
            if len(more) > self._words.shape[1]:
                wider = np.zeros((len(self._words), len(more)), dtype=np.uint64)
                wider[:, : self._words.shape[1]] = self._words
                self._words = wider
            self._words[k, : len(more)] = more
            self._have[k] = len(more)

    def _next(self, reading: np.ndarray) -> np.ndarray:
        """The next word of each stream ``reading`` (the others' places stay)."""
        self._ensure(reading)
        at = np.minimum(self._at, self._words.shape[1] - 1)
        self._at += reading
        return self._words[self._rows, at]

    def pick(self, call: Call) -> np.ndarray:
        """``Stream.pick`` of ``call`` on every stream: the indices into ``call.grid``
        (-1: the zero), a row a stream."""
        if not call.chance:
            fast = self._pick_at_once(call)
            if fast is not None:
                return fast
        out = np.empty((len(self._rows), call.n), dtype=np.int64)
        every = np.ones(len(self._rows), dtype=bool)
        span = np.uint64(len(call.grid))
        top = _top(len(call.grid))
        for j in range(call.n):
            picked = np.full(len(self._rows), -1, dtype=np.int64)
            wanted = every
            if call.chance:
                wanted = (self._next(every) & _LOW30) >= np.uint64(call.chance)
            while wanted.any():
                word = self._next(wanted)
                index = (word % span).astype(np.int64)
                taken = wanted & (word <= top) & (index != call.avoid)
                picked[taken] = index[taken]
                wanted = wanted & ~taken
            out[:, j] = picked
        return out

    def _pick_at_once(self, call: Call) -> np.ndarray | None:
        """A pick with no zeros, when no stream's next ``call.n`` words hold one to refuse
        (nearly always): a word an entry. None (nothing taken) when one does."""
        self._ensure(np.ones(len(self._rows), dtype=bool), call.n)
        places = self._at[:, None] + np.arange(call.n)
        words = self._words[self._rows[:, None], places]
        index = (words % np.uint64(len(call.grid))).astype(np.int64)
        if (words > _top(len(call.grid))).any() or (index == call.avoid).any():
            return None
        self._at += call.n
        return index


def _top(span: int) -> np.uint64:
    """The largest word a pick from ``span`` entries takes (``Stream.below``'s rejection:
    the words from the last whole multiple of ``span`` on are drawn again)."""
    return np.uint64(_WORD - _WORD % span - 1)


def _in_use_order(made: bytes, streams: int, blocks: int) -> np.ndarray:
    """Streams' blocks (``blocks`` a stream, one stream after the other) as their words in
    the order each stream uses them (each block's four last first), a row a stream."""
    raw = np.frombuffer(made, dtype=">u8").reshape(streams, blocks, 4)[:, :, ::-1]
    return raw.astype(np.uint64).reshape(streams, 4 * blocks)
