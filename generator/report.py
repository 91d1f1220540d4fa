"""The worked solution as text (a table like the lecture's) and as JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence

from lstm_exam.generator.core.notation import HEAD, KINDS, label_name, make_label
from lstm_exam.generator.core.numbers import fixed, plain
from lstm_exam.generator.core.problem import Problem
from lstm_exam.generator.core.solution import Solution

_HEAD = {
    **{f"Wz_{g}": f"W_{g}·z" for g in "fiCo"},
    **{f"a_{g}": f"a_{g}=+b_{g}" for g in "fiCo"},
    "f_t": "f_t=σ",
    "i_t": "i_t=σ",
    "C_tilde": "C~_t=tanh",
    "o_t": "o_t=σ",
    "fC": "f_t*C_t-1",
    "iC": "i_t*C~_t",
    "C_t": "C_t",
    "tanh_C": "tanh(C_t)",
    "h_t": "h_t",
}


def solution_table(problem: Problem, sol: Solution, full: bool = False) -> str:
    """The rounded chain as a table, one row per cell; asked columns marked with *.

    With ``full``, each cell shows the full-precision value in brackets too.
    """
    info = KINDS[problem.kind]
    asked = {label_name(lab) for lab in sol.asked}
    lines = [
        f"{info.title} ({problem.kind}), rounded chain at {sol.decimals} decimals"
        + (" [full precision]" if full else "")
    ]
    for t, names in problem.blocks(info.order):
        if t:
            lines.append(f"Step {t}")
        elif names[0] in HEAD:
            lines.append("Output layer")
        head = ["      "] + [_HEAD.get(n, n) + ("*" if n in asked else "") for n in names]
        rows = []
        for c, row_name in enumerate(problem.row_names(names[0]), start=1):
            row = [row_name]
            for n in names:
                v = sol.values[make_label(n, c, problem.step_of(n, t))]
                text = plain(v.rounded)
                if full:
                    text += f" [{fixed(v.full, sol.decimals + 4)}]"
                row.append(text)
            rows.append(row)
        widths = [max(len(r[k]) for r in [head, *rows]) for k in range(len(head))]
        for r in [head, *rows]:
            lines.append("  ".join(cell.rjust(w) for cell, w in zip(r, widths, strict=True)))
    lines.append("* asked; the others are intermediate steps")
    return "\n".join(lines)


def solution_json(problems: Sequence[Problem], sols: Sequence[Solution]) -> str:
    """The JSON of `solve --json` (docs/formats.md): one object for one problem, a list of them for several."""
    objs = [
        {
            "kind": str(p.kind),
            "decimals": s.decimals,
            "values": {
                lab: {"full": v.full, "rounded": float(v.rounded)} for lab, v in s.values.items()
            },
        }
        for p, s in zip(problems, sols, strict=True)
    ]
    return json.dumps(objs[0] if len(objs) == 1 else objs, indent=2)
