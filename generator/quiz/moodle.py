"""Moodle XML (pure): one category per worksheet, a subcategory per problem, one Cloze
(multianswer) question per variant and problem.

Each asked value is a ``{w:NUMERICAL:=centre:halfwidth~%0%value:tol#sentence...}``
subquestion whose interval [centre − halfwidth, centre + halfwidth] is the key's accepted
window exactly, followed by one 0% alternative per usual mistake with the registry's
feedback sentence. The cloze syntax is Moodle's ``qtype_multianswer_extract_question``
(question/type/multianswer/questiontype.php): an alternative's answer ends at the first
``~``, ``#`` or ``}`` (not after ``\\``, ``&`` or ``&amp;``); its feedback ends at the first
``~`` or ``}`` not after ``\\``; the feedback is then HTML-entity-decoded once and ``\\}``,
``\\#`` unescaped (``\\~`` is not). So a sentence is written HTML-escaped, then escaped
once more for that decoding, with ``} ~ # \\ { / "`` as numeric entities: no character of
it can end or bend the syntax, and Moodle stores exactly the HTML-escaped sentence.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from lstm_exam.generator.core.notation import KINDS
from lstm_exam.generator.core.numbers import plain
from lstm_exam.generator.quiz.html import blank_words, esc, givens_html, heading_html, xml_text
from lstm_exam.generator.quiz.items import Blank, Item
from lstm_exam.generator.store.manifest import Manifest

#: The characters written as numeric entities inside a cloze's feedback.
CLOZE_SPECIAL = frozenset('}~#\\{/"')


@functools.lru_cache(maxsize=4096)
def cloze_feedback(sentence: str) -> str:
    """A feedback sentence as a cloze alternative's feedback (see the module's text).

    >>> cloze_feedback('a_{g} < 1 & "~#"')
    'a_&#123;g&#125; &amp;lt; 1 &amp;amp; &amp;quot;&#126;&#35;&amp;quot;'
    """
    out = []
    text = esc(sentence)  # what Moodle is to store: HTML
    for k, c in enumerate(text):
        if c == "&":
            out.append("&amp;")  # Moodle decodes the entities once
        elif c in CLOZE_SPECIAL:
            if c in "}#" and k and text[k - 1] == "\\":
                # Moodle turns a stored \} or \# into } or #: one more \ keeps it
                out.append("&#92;")
            out.append(f"&#{ord(c)};")
        else:
            out.append(c)
    return "".join(out)


def cloze(blank: Blank, weight: int) -> str:
    """One NUMERICAL subquestion: the key's window first, then each mistake's at 0%."""
    alts = [f"={plain(blank.centre)}:{plain(blank.halfwidth)}"]
    for k in blank.mistakes:
        centre, half = (k.lo + k.hi) / 2, (k.hi - k.lo) / 2
        alts.append(f"%0%{plain(centre)}:{plain(half)}#{cloze_feedback(k.feedback)}")
    return "{" + f"{weight}:NUMERICAL:" + "~".join(alts) + "}"


def question_html(item: Item, weight: int) -> str:
    """The question text: heading, givens, and a table of the blanks."""
    rows = "".join(
        f"<tr><td>{blank_words(b.label)}</td><td>{cloze(b, weight)}</td></tr>" for b in item.blanks
    )
    return (
        heading_html(item.vp, item.variant)
        + givens_html(item.vp)
        + "<p>Compute:</p>"
        + f'<table class="lstm-exam" border="1" cellpadding="4">{rows}</table>'
    )


def category_path(*names: str) -> str:
    """A category path below the course's top category, as Moodle's format writes one
    (``qformat_default::assemble_category_path``): a '/' in a name is doubled, and a name
    that then starts or ends with '/' gets a space there (Moodle's reader trims it), or
    its '/' would run into the separator and the path split elsewhere.

    >>> category_path("/Week 5/", "Problem 1")
    '$course$/top/ //Week 5// /Problem 1'
    """
    return "$course$/top/" + "/".join(_category_name(n) for n in names)


def _category_name(name: str) -> str:
    escaped = name.replace("/", "//")
    if escaped.startswith("/"):
        escaped = " " + escaped
    if escaped.endswith("/"):
        escaped += " "
    return escaped


def _text(tag: str, text: str, fmt: str | None = None) -> str:
    attr = f' format="{fmt}"' if fmt else ""
    return f"<{tag}{attr}><text>{xml_text(text)}</text></{tag}>"


def _category(path: str, info: str) -> str:
    return (
        '  <question type="category">\n'
        f"    <category><text>{xml_text(path)}</text></category>\n"
        f"    {_text('info', info, 'html')}\n"
        "  </question>\n"
    )


def problem_category(manifest: Manifest, number: int, title: str) -> str:
    return category_path(manifest.title, f"Problem {number}: {title}")


def moodle_question(manifest: Manifest, item: Item, weight: int) -> str:
    """One variant's Cloze question of one problem."""
    number, title = item.vp.number, KINDS[item.vp.problem.kind].title
    return (
        '  <question type="cloze">\n'
        f"    {_text('name', f'{item.variant} problem {number}: {title}')}\n"
        f"    {_text('questiontext', question_html(item, weight), 'html')}\n"
        f"    {_text('generalfeedback', '', 'html')}\n"
        f"    <defaultgrade>{weight * len(item.blanks)}</defaultgrade>\n"
        "    <penalty>0.3333333</penalty>\n"
        "    <hidden>0</hidden>\n"
        f"    <idnumber>{xml_text(f'{manifest.slug}-{item.variant}-q{number}')}</idnumber>\n"
        "  </question>\n"
    )


def moodle_pieces(manifest: Manifest, items: Sequence[Item], weights: dict[int, int]) -> list[str]:
    """A variant's questions, one a problem (the parts :func:`moodle_document` joins)."""
    return [moodle_question(manifest, it, weights[it.vp.number]) for it in items]


def moodle_document(
    manifest: Manifest, problems: Sequence[tuple[int, str]], pieces: Sequence[Sequence[str]]
) -> str:
    """The whole file: the worksheet's category, then per problem (number, title) its
    subcategory and every variant's Cloze question of it (``pieces``: per variant, its
    questions in the order of the problems). A quiz slot "random question from" the
    subcategory draws one variant of the problem per attempt."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n']
    out.append(
        _category(
            category_path(manifest.title),
            f"<p>{esc(manifest.title)} ({esc(manifest.course)}): {len(pieces)} variants, made by "
            "lstm-exam quiz.</p>",
        )
    )
    for k, (number, title) in enumerate(problems):
        out.append(
            _category(
                problem_category(manifest, number, title),
                f"<p>Problem {number} of {esc(manifest.title)}, one question per variant.</p>",
            )
        )
        out += [questions[k] for questions in pieces]
    out.append("</quiz>\n")
    return "".join(out)


def moodle_xml(
    manifest: Manifest, variants: Sequence[Sequence[Item]], weights: dict[int, int]
) -> str:
    """:func:`moodle_document` of these variants' items."""
    problems = (
        [(it.vp.number, KINDS[it.vp.problem.kind].title) for it in variants[0]] if variants else []
    )
    return moodle_document(
        manifest, problems, [moodle_pieces(manifest, its, weights) for its in variants]
    )
