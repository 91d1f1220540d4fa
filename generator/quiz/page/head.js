/* lstm-exam practice pages: check answers in the browser as `lstm-exam grade` does.
 *
 * The cell's right formulas of generator/core/evaluate.py (both chains, a student's own
 * answers as overrides, at most one misconception at one step), one interpreter of the
 * misconceptions' formulas (the registry's, sent in the page's data) beside the three
 * structural ones, and graders/grade.py's compare, carry_forward, diagnose and score.
 * Everything a page knows of its variant (givens, accepted ranges, the misconceptions
 * that apply, their formulas and sentences, which answer feeds which) is in its
 * <script type="application/json" id="practice-data">, written by
 * generator/quiz/practice.py from the same registry that grading reads.
 *
 * Two kinds of numbers, as in generator/core/chains.py: float64 (JavaScript's Number, the
 * full chain) and exact decimals (Dec below, BigInt based, 40 significant digits, the
 * rounded chain), so that the rounded chain is computed digit for digit as Python's
 * decimal module computes it. Nothing is fetched: the page works from file://.
 *
 * Its source is generator/quiz/page/: this opening, decimal.js, chains.js, evaluate.js,
 * reading.js, grade.js and main.js, joined in that order by generator/quiz/practice.py
 * (SCRIPT_PARTS) into the one practice.js of a site. Every part runs inside the one
 * function scope opened here and closed at the end of main.js.
 */
"use strict";
(function () {
