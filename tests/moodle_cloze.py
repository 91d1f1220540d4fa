"""Moodle's Cloze (multianswer) parser, re-implemented from its source, for the tests.

From moodle/moodle ``question/type/multianswer/questiontype.php``: the regular
expressions ``ANSWER_ALTERNATIVE_*_REGEX``, ``NUMBER_REGEX``, ``NUMERICAL_ALTERNATIVE_REGEX``,
``ANSWER_TYPE_DEF_REGEX``, ``ANSWER_START_REGEX``, ``ANSWER_REGEX`` and the loop of
``qtype_multianswer_extract_question`` as of the Moodle 4 version (with MULTIRESPONSE and
decimal fractions); the answer, feedback and number expressions are the same at commit
3e52ba108f52b12df66063494905d2d3768183ad (the Moodle 1.9 file). PHP's PCRE lookbehind
``(?<!\\\\|&|&amp;)`` (alternatives of different widths) is written as three lookbehinds,
which Python's ``re`` takes. And Moodle's nominal tolerance
(``question/type/numerical/question.php``, ``qtype_numerical_answer::get_tolerance_interval``):
[answer − tolerance, answer + tolerance], widened by 1e-14 of the larger of 1 and |answer|.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from decimal import Decimal

FRACTION = r"=|%(-?[0-9]+(?:[.,][0-9]*)?)%"
ANSWER = r".+?(?<!\\)(?<!&)(?<!&amp;)(?=[~#}]|$)"
FEEDBACK = r".*?(?<!\\)(?=[~}]|$)"
ALTERNATIVE = f"({FRACTION})?({ANSWER})(#({FEEDBACK}))?"
NUMBER = r"-?(([0-9]+[.,]?[0-9]*|[.,][0-9]+)([eE][-+]?[0-9]+)?)"
NUMERICAL_ALTERNATIVE = f"^({NUMBER})(:{NUMBER})?$"
TYPE_DEF = (
    "(NUMERICAL|NM)|(MULTICHOICE|MC)|(MULTICHOICE_V|MCV)|(MULTICHOICE_H|MCH)|"
    "(SHORTANSWER|SA|MW)|(SHORTANSWER_C|SAC|MWC)|"
    "(MULTICHOICE_S|MCS)|(MULTICHOICE_VS|MCVS)|(MULTICHOICE_HS|MCHS)|"
    "(MULTIRESPONSE|MR)|(MULTIRESPONSE_H|MRH)|(MULTIRESPONSE_S|MRS)|(MULTIRESPONSE_HS|MRHS)"
)
START = r"\{([0-9]*):(" + TYPE_DEF + "):"
ANSWER_REGEX = re.compile(START + "(" + ALTERNATIVE + "(~" + ALTERNATIVE + r")*)\}", re.S)
ALTERNATIVE_REGEX = re.compile("~?" + ALTERNATIVE, re.S)
NUMERICAL_REGEX = re.compile(NUMERICAL_ALTERNATIVE, re.S)
# group positions, as the PHP constants name them
NORM, TYPE_NUMERICAL, ALTERNATIVES = 1, 3, 16
ALT_FRACTION, ALT_PERCENT, ALT_ANSWER, ALT_FEEDBACK = 1, 2, 3, 5
CORRECT_ANSWER, ABS_ERROR_MARGIN = 1, 6


@dataclass(frozen=True)
class Alternative:
    fraction: float
    answer: str
    tolerance: str | None
    feedback: str
    """As Moodle stores it: entities decoded once, ``\\}`` and ``\\#`` unescaped."""

    def interval(self) -> tuple[Decimal, Decimal]:
        """The exact interval (Moodle adds ~1e-14 to each side)."""
        a, t = Decimal(self.answer), Decimal(self.tolerance or 0)
        return a - t, a + t

    def moodle_interval(self) -> tuple[float, float]:
        """``get_tolerance_interval`` of the nominal kind, in PHP's floats."""
        a, t = float(self.answer), abs(float(self.tolerance or 0))
        t += 10.0**-14 * max(1.0, abs(a))
        return a - t, a + t


@dataclass(frozen=True)
class Subquestion:
    weight: int
    numerical: bool
    alternatives: tuple[Alternative, ...]


def extract(text: str) -> tuple[list[Subquestion], str]:
    """``qtype_multianswer_extract_question``: the subquestions and the text with each
    replaced by ``{#N}``."""
    subs = []
    position = 1
    while (m := ANSWER_REGEX.search(text)) is not None:
        weight = int(m.group(NORM)) if m.group(NORM) else 1
        numerical = bool(m.group(TYPE_NUMERICAL))
        alts = []
        remaining = m.group(ALTERNATIVES)
        while (a := ALTERNATIVE_REGEX.search(remaining)) is not None:
            if a.group(ALT_FRACTION) == "=":
                fraction = 1.0
            elif a.group(ALT_PERCENT) and float(a.group(ALT_PERCENT).replace(",", ".")):
                fraction = 0.01 * float(a.group(ALT_PERCENT).replace(",", "."))
            else:  # PHP: "0" is false, so %0% lands here too
                fraction = 0.0
            feedback = ""
            if a.group(ALT_FEEDBACK) is not None:
                feedback = html.unescape(a.group(ALT_FEEDBACK))
                feedback = feedback.replace("\\}", "}").replace("\\#", "#")
            answer, tolerance = a.group(ALT_ANSWER), None
            n = NUMERICAL_REGEX.search(answer) if numerical else None
            if n is not None:
                answer = n.group(CORRECT_ANSWER)
                tolerance = n.group(ABS_ERROR_MARGIN) or "0"
            alts.append(Alternative(fraction, answer, tolerance, feedback))
            remaining = remaining.split(a.group(0), 1)[1]
        subs.append(Subquestion(weight, numerical, tuple(alts)))
        text = text.replace(m.group(0), f"{{#{position}}}", 1)
        position += 1
    return subs, text
