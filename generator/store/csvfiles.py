"""Answer templates and keys as CSV (docs/formats.md)."""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Iterable, Sequence

from lstm_exam.generator.core.notation import describe_label, is_whole
from lstm_exam.generator.core.numbers import fixed, plain
from lstm_exam.generator.store.manifest import Manifest
from lstm_exam.generator.variants.variant import Variant

TEMPLATE_HEADER = ("label", "description", "answer")


KEY_HEADER = (*TEMPLATE_HEADER, "full_precision", "accept_min", "accept_max")


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(text: str) -> str:
    """Neutralize a text cell a spreadsheet would run as a formula (OWASP's rule), also
    behind leading white space, which a spreadsheet may trim on import (Canvas's own
    exporter quotes a name matching ``^\\s*=``).

    >>> safe_cell("=HYPERLINK(1)"), safe_cell("Ada"), safe_cell(" +1+cmd")
    ("'=HYPERLINK(1)", 'Ada', "' +1+cmd")
    """
    formula = text.startswith(_FORMULA_START) or text.lstrip().startswith(_FORMULA_START)
    return "'" + text if formula else text


def to_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """CSV text with CRLF line ends, as spreadsheets write it."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def template_csv(variant: Variant) -> str:
    """The answer template a student fills: every asked label, answer empty."""
    rows = [
        (vp.label(lab), describe(vp.label(lab)), "")
        for vp in variant.problems
        for lab in vp.solution.asked
    ]
    return to_csv(TEMPLATE_HEADER, rows)


def key_csv(manifest: Manifest, variant: Variant) -> str:
    """The key: the template's rows with the rounded-chain answer and the accepted range."""
    rows = []
    for vp in variant.problems:
        for lab in vp.solution.asked:
            val = vp.solution.values[lab]
            lo, hi = manifest.bounds(lab, val)
            whole = is_whole(lab)
            rows.append(
                (
                    vp.label(lab),
                    describe(vp.label(lab)),
                    plain(val.rounded),
                    plain(val.rounded) if whole else fixed(val.full, manifest.decimals + 4),
                    plain(lo),
                    plain(hi),
                )
            )
    return to_csv(KEY_HEADER, rows)


@functools.lru_cache(maxsize=65536)
def describe(label: str) -> str:
    """The description column of a CSV row (labels repeat from student to student: each
    is described once)."""
    q, _, _ = label.partition(".")
    return f"Problem {q[1:]}: {describe_label(label)}"
