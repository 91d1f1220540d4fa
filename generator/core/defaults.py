"""Every default and threshold of lstm-exam, in one place."""

from __future__ import annotations

from decimal import Decimal

#: Decimal places answers are rounded to (the lecture uses 3).
DECIMALS = 3

#: Hidden size H and input size D allowed in a spec or problem file.
MIN_SIZE, MAX_SIZE = 1, 8
#: Steps T allowed for a sequence problem.
MIN_STEPS, MAX_STEPS = 1, 8
#: Default sizes when a spec does not give them (the lecture's example).
HIDDEN, INPUTS, STEPS = 3, 3, 3
#: A sequence's defaults are smaller: every cell of every step must keep every
#: misconception visible, so a 3x3x3 sequence takes ~750 draws (1.6 s a student)
#: where 2x2x2 takes a few dozen.
SEQUENCE_SIZES = (2, 2, 2)
#: Default (H, D, T) per kind; other kinds take (HIDDEN, INPUTS, STEPS). The network
#: kinds run a sequence; a backward step is long by hand, so it is small too.
KIND_SIZES = {
    "sequence": SEQUENCE_SIZES,
    "classification": SEQUENCE_SIZES,
    "regression": SEQUENCE_SIZES,
    "backward_step": (2, 2, 1),
}
#: Classes K of a classification problem: the default and the largest allowed.
CLASSES, MAX_CLASSES = 3, 8
#: Range of the given upstream gradients dL/dh_t and dL/dC_t of a backward step.
GRADIENT_RANGE = (Decimal("-1.0"), Decimal("1.0"))

#: Largest count of a parameters problem (sizes D, H, K, F, T).
MAX_COUNT = 100_000
#: The most students of a class: `--count` and the rows of a roster.
MAX_STUDENTS = 100_000
#: Ranges of the sizes a parameters problem draws.
PARAMETER_RANGES = {"D": (2, 64), "H": (2, 128), "K": (2, 20), "F": (16, 512), "T": (5, 60)}

#: Default points of one problem.
POINTS = 3

#: Default distribution of weights and biases: range, decimals, share of zeros.
WEIGHTS = {"low": Decimal("-1.0"), "high": Decimal("1.0"), "decimals": 2, "zeros": Decimal("0.3")}
#: Default distribution of the state and input values (h, x, C).
VALUES = {"low": Decimal("-1.0"), "high": Decimal("1.5"), "decimals": 3}
#: Range of given gate values (f_t, i_t of a cell_state problem).
GATE_RANGE = (Decimal("0.05"), Decimal("0.95"))
#: Range of a given candidate C_tilde.
CANDIDATE_RANGE = (Decimal("-0.95"), Decimal("0.95"))

# --- well-posedness (docs/well-posedness.md) ---------------------
#: A pre-activation beyond this magnitude saturates its gate (sigma(3) = 0.953).
MAX_PREACTIVATION = 3.0
#: An asked full-chain value closer than this share of one unit in the last place
#: (0.002: within 0.000002 at 3 places, so exact ties such as 0.0125 are refused; a
#: student who rounds a near-tie the other way stays inside the tolerance anyway)
#: to a rounding boundary (x.xxx5) is a knife-edge.
KNIFE_EDGE = 0.002
#: A misconception must land farther than this many tolerances from the correct
#: value (from both chains).
MISCONCEPTION_MARGIN = 2
#: Give up after this many draws of one problem for one student (the spec is then too
#: narrow) ...
MAX_DRAWS = 3000
#: ... or of all the problems of one student's sheet: a draw takes 1 to 6 ms of CPU (a
#: 3 x 3 x 3 sequence about 900 draws), so no sheet searches much past a minute a student.
MAX_SHEET_DRAWS = 10_000

# --- the manifest ----------------------------------------------------------
MANIFEST_FORMAT = "lstm-exam-manifest"
MANIFEST_VERSION = 1
#: Extra digits the key CSV keeps in accept_min / accept_max beyond `decimals`.
BOUND_EXTRA_DIGITS = 2

#: Where `generate` writes when no --out is given: output/<worksheet-slug>/.
OUTPUT_ROOT = "output"
#: Precision (significant digits) of the exact-decimal rounded chain.
DECIMAL_PRECISION = 40

#: The seed of `lstm-exam demo` (public, so the bundled sample submissions fit the
#: demo worksheet). Never use it for a real class: a real spec has its own or none.
DEMO_SEED = "lstm-exam-public-demo-seed"
#: The shortest seed a user may give (in a spec, `quiz --seed`, the library): a shorter one
#: could be guessed, and with it every student's numbers and every key.
MIN_SEED = 8

# --- numbers a user writes -------------------------------------------------------
#: Every number a spec, a problem file or a manifest gives is below 10**MAX_DIGITS in
#: size and has at most MAX_PLACES decimal places (so no text is ever written out long).
MAX_DIGITS, MAX_PLACES = 6, 12
#: A student's answer is graded within these bounds (else: "out of range").
ANSWER_DIGITS, ANSWER_PLACES = 9, 30

# --- the spec ----------------------------------------------------------------
#: Title of a spec that gives none.
TITLE = "LSTM worksheet"
#: Whether the intermediate steps are asked too.
SHOW_STEPS = True
#: Whether the sheet prints the formulas of each problem (off: the students recall them).
FORMULAS = True
#: Share of an answer's credit for one consistent with the student's own earlier answers.
CARRY_FORWARD = 1

#: Whether the sheets' answer boxes are PDF form fields a student fills in a viewer.
FILLABLE = True

# --- typesetting ------------------------------------------------------------------
#: pdflatex's time limit for a class: this many seconds, and this many more a student
#: (a student's sheet and key take about 0.15 s on a 2-core machine; a loop never ends).
TEX_TIMEOUT, TEX_TIMEOUT_PER_STUDENT = 60, 1
#: Time limits count CPU time, which a loaded machine does not take away; a process that
#: waits rather than works is stopped after this many times its limit in wall time (on a
#: machine so busy that a process gets less than a tenth of a core, raise --tex-timeout).
WALL_FACTOR = 10
#: Memory (address space) pdflatex may use: TeX's own tables are fixed (texmf.cnf) and a
#: run of the largest class takes about 100 MB.
TEX_MEMORY = 2_000_000_000

# --- templates (docs/security.md) ---------------------------------------------------
#: The templates are filled in a process of their own, within the time limit of TeX and
#: this much memory more than the run has: so many bytes, and so many more a student
#: (a student's sheet and key are about 20 KB of LaTeX; filling them for 400 students
#: took 60 MB).
TEMPLATE_MEMORY, TEMPLATE_MEMORY_PER_STUDENT = 500_000_000, 200_000
#: The longest string or list one operation of a template may make, and the largest
#: width or count it may ask for ('a' * n, |join, '%*d', |center, ...).
TEMPLATE_MAX_SIZE = 1_000_000
#: The most numbers a template's range() gives (Jinja's sandbox has the same bound).
TEMPLATE_MAX_RANGE = 100_000

# --- grading -----------------------------------------------------------------
#: Limits on one submitted file, a zip of them (zip bombs) and a roster.
MAX_FILE_BYTES = 1_000_000
MAX_ROWS = 5_000
MAX_ZIP_MEMBERS = 100_000
MAX_ZIP_BYTES = 2_000_000_000
MAX_ROSTER_BYTES = 5_000_000
#: Limits on a submitted PDF (a filled sheet is about 300 KB of some 150 objects and one
#: field an answer): its size, its objects (the trailer's count), its form's fields and
#: how deep they nest.
MAX_PDF_BYTES = 20_000_000
MAX_PDF_OBJECTS = 100_000
MAX_PDF_FIELDS = MAX_ROWS
MAX_PDF_DEPTH = 8
#: What reading one submitted PDF may cost (docs/security.md, "Size limits"): one stream
#: inflates to at most MAX_PDF_STREAM_BYTES (a sheet's largest stream read, its object
#: stream, is a few KB; a stream of zeros inflates a thousandfold) through at most
#: MAX_PDF_FILTERS filters; qpdf stops at MAX_PDF_WARNINGS warnings; the child process
#: that reads it may add MAX_PDF_MEMORY bytes to its address space and use MAX_PDF_SECONDS
#: of CPU time (a sheet takes some 20 MB and 10 ms), whatever the file holds.
MAX_PDF_STREAM_BYTES = 10_000_000
MAX_PDF_FILTERS = 4
MAX_PDF_WARNINGS = 1_000
MAX_PDF_MEMORY = 150_000_000
MAX_PDF_SECONDS = 5
#: A Moodle "Maximum grade" or Canvas "Points Possible" read back from the LMS's export:
#: above 0, at most this many points (far above any real assignment) and this many decimal
#: places (Moodle writes an item's 0 to 5, Canvas 2), its text at most this long.
MAX_LMS_POINTS, MAX_LMS_PLACES, MAX_LMS_NUMBER_CHARS = 100_000, 5, 32
#: The longest student name a roster may give (it is printed on every page of a sheet).
MAX_NAME_CHARS = 200
#: Limits on the other input files: a spec or problem file, a manifest (about 25 KB a
#: student of the largest sheets, for the largest class).
MAX_TOML_BYTES = 5_000_000
#: How deep arrays and inline tables may nest in a spec or problem file (a problem file's
#: weights nest 4 deep: [[problems]], W_f, its rows, a number); deeper is refused before it
#: is parsed, so no file can exhaust the parser's recursion.
MAX_TOML_DEPTH = 16
MAX_MANIFEST_BYTES = 4_000_000_000
#: Copy detection: another variant fits at least this share of the final answers ...
COPY_FIT = 0.6
#: ... and this much better than the student's own variant.
COPY_MARGIN = 0.4
#: From this many students on, generate and grade in worker processes.
PARALLEL_FROM = 400
#: Students whose PDFs one job of the split writes (generate's PDFs): in worker processes
#: from PARALLEL_FROM students on, each worker opening the class PDF once for all its jobs.
SPLIT_CHUNK = 50
#: How long a run stopped midway waits for its worker pool's manager thread to end
#: (seconds; its workers are dead by then, so it never writes anything).
POOL_STOP_TIMEOUT = 10
#: Students whose draws are searched together: a worker's share of a class (or of a quiz's
#: variants; one process is one worker), but at least SEARCH_BATCH and at most
#: SEARCH_BATCH_MAX (a round of the search costs about as much for many students as for
#: few, so the larger a batch, the less a student's share). generate.search_batch.
SEARCH_BATCH, SEARCH_BATCH_MAX = 250, 1000
#: The most draws of one student a round of the search screens at once.
SEARCH_AHEAD = 32
#: A float comparison of the screen closer than this (relative) to its exact decimal
#: bound is left to the exact check: the screen's bounds are floats, off by about 1e-16.
SCREEN_UNSURE = 1e-9
#: From this many draws left open, the screen also judges the rounded chain (in floats);
#: fewer are judged one by one in exact decimals, which is then quicker.
SCREEN_ROUNDED_FROM = 6

# --- sending (docs/send.md) ------------------------------------------------------
#: The largest file `send` attaches; a larger one is that student's fault, never sent.
MAX_ATTACHMENT_BYTES = 20_000_000
#: The largest results.json `send --what feedback` reads to check that the grades are the
#: worksheet's (as large as a manifest may be).
MAX_RESULTS_BYTES = 4_000_000_000
#: Seconds an SMTP server may take to answer (connecting, each command, the message).
SMTP_TIMEOUT = 30.0
#: The record of what `send` delivered, in the worksheet folder (one JSON line a try).
SEND_LOG = "send-log.jsonl"
#: The environment variables `send` logs in with (both or neither; never an option).
SMTP_USER_ENV, SMTP_PASSWORD_ENV = "LSTM_EXAM_SMTP_USER", "LSTM_EXAM_SMTP_PASSWORD"

# --- quizzes (docs/quiz.md) --------------------------------------------------------
#: The most variants `quiz --count` makes (an LMS imports a file of them in one request).
MAX_QUIZ_VARIANTS = 1000
#: From this many variants on, `quiz` draws and writes them in worker processes, a batch
#: each (as generate draws a class). As generate's PARALLEL_FROM: on the shared 2-core machine of docs/performance.md
#: two workers were slower than one process for 50 and for 300 variants (the other load
#: takes the second core), so only the largest quizzes fork.
QUIZ_PARALLEL_FROM = 400
#: The formats `quiz --to` writes.
QUIZ_FORMATS = ("moodle", "canvas", "html")
