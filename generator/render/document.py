"""The class documents as LaTeX: the templates filled with the views (pure: no files)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2
from jinja2.exceptions import SecurityError, UndefinedError

from lstm_exam.generator.core.errors import InputError
from lstm_exam.generator.core.notation import (
    Kind,
)
from lstm_exam.generator.render.key_view import accept_view, key_steps
from lstm_exam.generator.render.latex import Tex, make_env, template_folder, unsupported
from lstm_exam.generator.render.scripts import needs, printed
from lstm_exam.generator.render.sheet_view import (
    NETWORK_KINDS,
    diagram_box,
    problem_view,
    student_view,
)
from lstm_exam.generator.runtime import OutOfTime
from lstm_exam.generator.store.manifest import Manifest

DOCUMENTS = {"sheets": "class-sheets", "keys": "class-key"}


@dataclass(frozen=True, slots=True)
class Rendered:
    """The LaTeX of the class documents and what to warn about."""

    tex: Mapping[str, str]
    """Document name (``class-sheets``, ``class-key``) to LaTeX."""
    warnings: tuple[str, ...]


def render_tex(
    manifest: Manifest, templates: Path | None = None, documents: Sequence[str] = tuple(DOCUMENTS)
) -> Rendered:
    """The class documents as LaTeX (pure: no files): by default the sheets and the key;
    ``documents`` names which (keys of :data:`DOCUMENTS`)."""
    env = make_env(templates)
    kinds = sorted({vp.problem.kind for v in manifest.variants for vp in v.problems})
    fonts = needs([manifest.title, manifest.course, *(v.student.name for v in manifest.variants)])
    common = {
        "fonts": {"fontenc": fonts.fontenc, "T2A": "T2A" in fonts.encodings, "cjk": fonts.cjk},
        "course": manifest.course,
        "title": manifest.title,
        "decimals": manifest.decimals,
        "tolerance_words": manifest.tolerance.words(),
        "counts_only": kinds == [Kind.PARAMETERS],
        "fillable": manifest.fillable,
        "diagrams": {str(k): Tex(diagram_box(k)) for k in kinds},
        "network_kinds": [str(k) for k in NETWORK_KINDS],
    }
    sheets, keys = [], []
    warnings = [
        f"no PDF font has {bad!r} of the {what} {text!r}; printed as {printed(text)!r}"
        for what, text in (("title", manifest.title), ("course", manifest.course))
        if (bad := unsupported(text))
    ]
    for v in manifest.variants:
        s, warn = student_view(v)
        warnings += warn
        views = [problem_view(vp) for vp in v.problems]
        sheets.append((s, views))
        keys.append(
            (
                s,
                [
                    {**view, "steps": key_steps(vp), "accept_pairs": accept_view(manifest, vp)}
                    for view, vp in zip(views, v.problems, strict=True)
                ],
            )
        )
    views_of = {"sheets": sheets, "keys": keys}
    try:
        tex = {
            DOCUMENTS[d]: env.get_template(f"{d}.tex.j2").render(common, students=views_of[d])
            for d in documents
        }
    except jinja2.TemplateSyntaxError as e:
        raise InputError(
            e.filename or e.name or "template",
            f"line {e.lineno}",
            " ".join((e.message or "syntax error").split()),
        ) from None
    except jinja2.TemplateNotFound as e:
        raise InputError(
            str(templates or template_folder()), "", f"template {e.name} not found"
        ) from None
    except (Exception, OutOfTime) as e:  # a template is code: every fault of it is one line
        raise template_fault(e, templates) from None
    return Rendered(tex, tuple(warnings))


def template_fault(error: BaseException, templates: Path | None) -> InputError:
    """A fault raised while a template ran, as one line: the template and its line (the
    innermost template frame of the traceback) and what went wrong."""
    file, place = str(templates or template_folder()), ""
    tb = error.__traceback__
    while tb is not None:
        if "__jinja_exception__" in tb.tb_frame.f_globals:  # a template's frame (jinja2.debug)
            file, place = tb.tb_frame.f_code.co_filename, f"line {tb.tb_lineno}"
        tb = tb.tb_next
    if isinstance(error, SecurityError):  # the sandbox: a template may print, never run code
        fault = f"template refused: {error}"
    elif isinstance(error, UndefinedError):
        fault = f"template error: {error.message}"
    elif isinstance(error, RecursionError):
        fault = "template error: endless recursion (or nesting too deep)"
    elif isinstance(error, MemoryError):
        fault = "the template ran out of memory (a string or list grown without end?)"
    elif isinstance(error, OutOfTime):
        fault = (
            f"the templates ran past their time limit ({error}; a loop in a template?); "
            "raise it with --tex-timeout SECONDS"
        )
    else:
        fault = f"template error: {type(error).__name__}: {error}"
    return InputError(file, place, " ".join(fault.split())[:300])
