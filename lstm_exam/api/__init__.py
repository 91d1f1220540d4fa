"""The library's face: one function per command of `lstm-exam`, doing its work without printing.

Each command takes one option record (:mod:`~lstm_exam.api.options`: the command's
options, built by keyword) and, where it reports progress, one :class:`Progress` object
(:mod:`~lstm_exam.api.progress`: the stage begun, the units done, the notices before
the work). What it returns is data; the sentences shown to a user are the command
line's (:mod:`lstm_exam.cli`).

Importing this package is light (the standard library, the package's defaults and its
error type): each function imports the modules it needs when it is called, so that a
command that renders no PDF never loads the render stack (sympy, jinja2, pylatex,
pikepdf).
"""

from lstm_exam.api.delivery import (
    DemoGenerated,
    Graded,
    check_demo_folder,
    demo_generate,
    demo_grade,
    demo_layout,
    grade_folder,
    grades_folder,
    make_quiz,
    quiz_folder,
    quiz_summary,
    send_files,
    send_moodle_zip,
    send_summary,
)
from lstm_exam.api.options import (
    DEMO_FOLDER,
    DemoOptions,
    ExportOptions,
    GenerateOptions,
    GradeOptions,
    MoodleZipOptions,
    QuizOptions,
    RenderOptions,
    SendOptions,
    SolveOptions,
)
from lstm_exam.api.progress import QUIET, Notice, Progress, Quiet
from lstm_exam.api.worksheet import (
    builtin_spec_text,
    choose_students,
    copy_templates,
    export_problem,
    finished_outputs,
    generate_class,
    generate_worksheet,
    output_folder,
    render_folder,
    replaced_seed,
    solve_text,
    tex_missing,
)

__all__ = [
    "DEMO_FOLDER",
    "QUIET",
    "DemoGenerated",
    "DemoOptions",
    "ExportOptions",
    "GenerateOptions",
    "GradeOptions",
    "Graded",
    "MoodleZipOptions",
    "Notice",
    "Progress",
    "Quiet",
    "QuizOptions",
    "RenderOptions",
    "SendOptions",
    "SolveOptions",
    "builtin_spec_text",
    "check_demo_folder",
    "choose_students",
    "copy_templates",
    "demo_generate",
    "demo_grade",
    "demo_layout",
    "export_problem",
    "finished_outputs",
    "generate_class",
    "generate_worksheet",
    "grade_folder",
    "grades_folder",
    "make_quiz",
    "output_folder",
    "quiz_folder",
    "quiz_summary",
    "render_folder",
    "replaced_seed",
    "send_files",
    "send_moodle_zip",
    "send_summary",
    "solve_text",
    "tex_missing",
]
