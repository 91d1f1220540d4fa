"""The class search's fast paths give what the plain ones give: the same words of the
keyed stream, the same picks, the same problems, the same manifest line and key."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_exam.generator.core.notation import KINDS
from lstm_exam.generator.core.numbers import plain_tree
from lstm_exam.generator.core.tolerance import Tolerance
from lstm_exam.generator.generate import build_manifest
from lstm_exam.generator.spec.roster import numbered_roster
from lstm_exam.generator.spec.worksheet import Distribution, load_spec
from lstm_exam.generator.store.csvfiles import key_csv
from lstm_exam.generator.store.manifest import student_json
from lstm_exam.generator.variants.draw import Call, draw_plan, draw_problem
from lstm_exam.generator.variants.draw_batch import Words, draw_problems
from lstm_exam.generator.variants.stream import Stream, stream_blocks

BENCH = Path(__file__).resolve().parent.parent / "bench" / "with-network-kinds.toml"

texts = st.text(st.characters(codec="utf-8"), max_size=80)


@settings(max_examples=60, deadline=None)
@given(seed=texts, parts=st.lists(texts, max_size=4), count=st.integers(0, 40))
def test_stream_blocks_are_the_streams_words(seed, parts, count):
    """Property: PBKDF2's blocks are the stream's HMAC blocks, counter 0 on: a stream uses
    each block's four 64-bit words last first."""
    made = stream_blocks(seed, tuple(parts), count)
    assert len(made) == 32 * count
    s = Stream(seed, *parts)
    words = [s.below(1 << 64) for _ in range(4 * count)]  # each word as it is
    expected = [
        int.from_bytes(made[32 * b + 8 * w : 32 * b + 8 * w + 8], "big")
        for b in range(count)
        for w in (3, 2, 1, 0)
    ]
    assert words == expected


calls = st.builds(
    lambda n, span, zeros, avoid: (n, span, zeros, avoid if avoid < span and span > 1 else -1),
    st.integers(1, 12),
    st.one_of(st.integers(1, 300), st.sampled_from([1, 2, 4, 64, 256])),
    st.sampled_from([0, 1, 1 << 28, 1 << 29, (1 << 30) - 1]),
    st.integers(-1, 5),
)


@settings(max_examples=60, deadline=None)
@given(
    seed=texts,
    streams=st.integers(1, 12),
    sequence=st.lists(calls, min_size=1, max_size=8),
    guess=st.integers(0, 30),
)
def test_batch_picks_are_the_plain_picks(seed, streams, sequence, guess):
    """Property: for any seed, streams, grid sizes, shares of zeros, entries to avoid and
    counts, the picks made together are each stream's ``Stream.pick`` one by one, however
    few words were made at first (a stream short of words gets more)."""
    parts = [("w", f"s{k}", "q1", f"draw{k}") for k in range(streams)]
    words = Words(seed, parts, guess)
    together = [
        words.pick(Call(n, tuple(range(span)), z, -1, a))  # type: ignore[arg-type]
        for n, span, z, a in sequence
    ]
    for k, p in enumerate(parts):
        s = Stream(seed, *p)
        for (n, span, z, a), picked in zip(sequence, together, strict=True):
            alone = s.pick(n, tuple(range(span)), z, -1, a)
            assert [int(i) for i in picked[k]] == alone


def test_a_refused_word_takes_the_next_as_the_plain_pick_does():
    """A grid of two entries, one to avoid: half the words are refused, and the picks
    still agree (the whole-call shortcut gives way to the entry-by-entry walk)."""
    parts = [("w", f"s{k}") for k in range(50)]
    words = Words("refusals", parts, 4)
    together = words.pick(Call(30, (0, 1), 0, -1, 0))  # type: ignore[arg-type]
    for k, p in enumerate(parts):
        assert list(together[k]) == Stream("refusals", *p).pick(30, (0, 1), 0, -1, 0)


DISTRIBUTIONS = st.builds(
    lambda low, width, decimals, zeros: Distribution(
        Decimal(low).scaleb(-1), Decimal(low + width).scaleb(-1), decimals, zeros
    ),
    st.integers(-20, 5),
    st.integers(1, 30),
    st.integers(1, 3),  # at least two numbers on the grid: one may be avoided
    st.sampled_from([Decimal(0), Decimal("0.3"), Decimal("0.9")]),
)


@settings(max_examples=25, deadline=None)
@given(
    kind=st.sampled_from(sorted(KINDS, key=str)),
    weights=DISTRIBUTIONS,
    values=DISTRIBUTIONS,
    seed=texts,
    count=st.integers(1, 6),
)
def test_problems_drawn_together_are_those_drawn_alone(kind, weights, values, seed, count):
    """Property: every kind, any ranges and shares of zeros: ``draw_problems`` gives each
    stream's ``draw_problem``, value for value and digit for digit."""
    ws = load_spec(BENCH)
    base = next((p for p in ws.problems if p.kind is kind), ws.problems[0])
    spec = replace(base, kind=kind, weights=weights, values=values)
    streams = [("w", f"s{k}", "q1", f"draw{k}") for k in range(count)]
    together = draw_problems(spec, 3, seed, streams)
    alone = [draw_problem(spec, 3, Stream(seed, *p)) for p in streams]
    assert together == alone
    assert [repr(p) for p in together] == [repr(p) for p in alone]
    if kind.name != "PARAMETERS":
        assert [g.name for g in draw_plan(spec)] == [name for name, _ in KINDS[kind].givens]


def test_the_network_class_is_the_one_drawn_student_by_student():
    """The bench sheet's first students: the same variants searched together as drawn one
    student at a time (``make_variant``'s draws, each student's own)."""
    ws = load_spec(BENCH)
    students = numbered_roster(12)
    m, _, _ = build_manifest(ws, students, "netsearch-seed")
    alone = [build_manifest(ws, [st], "netsearch-seed")[0].variants[0] for st in students[:4]]
    assert [student_json(m, v) for v in m.variants[:4]] == [student_json(m, v) for v in alone]


def test_the_key_and_the_manifest_line_share_the_bounds_and_keep_their_bytes():
    """The bounds computed once serve the key CSV and the manifest line alike: the same
    text as a manifest whose rule is another object (nothing remembered for it), and the
    givens written as ``plain_tree`` writes them."""
    ws = load_spec(BENCH)
    m, _, _ = build_manifest(ws, numbered_roster(3), "netsearch-seed")
    first = [(key_csv(m, v), student_json(m, v)) for v in m.variants]
    other = replace(m, tolerance=Tolerance(m.tolerance.mode, m.tolerance.amount))
    again = [(key_csv(other, v), student_json(other, v)) for v in other.variants]
    assert first == again
    for v, (_, line) in zip(m.variants, first, strict=True):
        written = [p["givens"] for p in json.loads(line)["problems"]]
        drawn = [{k: plain_tree(g) for k, g in vp.problem.givens.items()} for vp in v.problems]
        assert written == drawn
