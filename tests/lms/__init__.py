"""Ground truth for the LMS round trip: Python re-implementations of what Moodle and Canvas
write and accept. A test-support package (pytest does not collect it: no ``test_`` prefix), a module an
LMS: :mod:`.moodle` and :mod:`.moodle_grades`, :mod:`.canvas`, and :mod:`.common`, what
they share; ``lms.NAME`` reaches every one's names.

Every function names the source it follows (repository, path, function, and the commit read
through the code index). Nothing here is product code; the product is tested against it.
See docs/lms-formats.md for the summary and the open questions.

Commits read (moodle/moodle unless said otherwise):

* ``lib/classes/param.php`` @ 021406c8 (``param::clean_param_value_file``, ``..._path``)
* ``mod/assign/locallib.php`` @ 9ec2c12f (``assign::download_submissions``, Moodle 3.9-4.0 era)
* ``mod/assign/classes/downloader.php`` @ da545523 (``downloader``, Moodle >= 4.1)
* ``mod/assign/feedback/file/importziplib.php`` @ 3769c65a
  (``assignfeedback_file_zip_importer``)
* ``mod/assign/feedback/offline/locallib.php`` @ 04975560 (``process_import_grades``,
  ``download_grades``), ``importgradeslib.php`` @ 9762977c
  (``assignfeedback_offline_grade_importer``)
* ``mod/assign/gradingtable.php`` @ 1494620b / 003699db (``assign_grading_table::__construct``,
  ``col_recordid``)
* ``mod/assign/lang/en/assign.php`` (strings ``hiddenuser`` = 'Participant ', ``recordid``,
  ``lastmodifiedgrade``, ``maxgrade`` = 'Maximum Grade', ``gradecanbechanged``)
* ``grade/import/csv/classes/load_data.php`` @ 162f42f0 (``gradeimport_csv_load_data``)
* ``lib/csvlib.class.php`` @ 117bd748 (``csv_import_reader::load_csv_content``; an old copy,
  see the open questions)
* instructure/canvas-lms ``lib/gradebook_exporter.rb`` @ 433333ee (``GradebookExporter``),
  ``lib/gradebook_importer.rb`` @ 00b222d7 (``GradebookImporter``, current) and @ 2702e63b
  (2012), ``lib/content_zipper.rb`` @ a72b23a8 (``ContentZipper``), ``app/models/assignment.rb``
  (``infer_comment_context_from_filename``, ``title_and_id``, ``title_with_id``)
"""

from __future__ import annotations

from .canvas import (
    CANVAS_NON_ASSIGNMENT as CANVAS_NON_ASSIGNMENT,
)
from .canvas import (
    CANVAS_RESERVED as CANVAS_RESERVED,
)
from .canvas import (
    CanvasAssignment as CanvasAssignment,
)
from .canvas import (
    CanvasFile as CanvasFile,
)
from .canvas import (
    CanvasImport as CanvasImport,
)
from .canvas import (
    CanvasStudent as CanvasStudent,
)
from .canvas import (
    CanvasSubmission as CanvasSubmission,
)
from .canvas import (
    ReuploadResult as ReuploadResult,
)
from .canvas import (
    canvas_gradebook_export as canvas_gradebook_export,
)
from .canvas import (
    canvas_gradebook_import_check as canvas_gradebook_import_check,
)
from .canvas import (
    canvas_no_change as canvas_no_change,
)
from .canvas import (
    canvas_number as canvas_number,
)
from .canvas import (
    canvas_reupload_check as canvas_reupload_check,
)
from .canvas import (
    canvas_sanitize_file_name as canvas_sanitize_file_name,
)
from .canvas import (
    canvas_sanitize_user_name as canvas_sanitize_user_name,
)
from .canvas import (
    canvas_submission_member as canvas_submission_member,
)
from .canvas import (
    canvas_submission_zip as canvas_submission_zip,
)
from .canvas import (
    canvas_title_and_id as canvas_title_and_id,
)
from .canvas import (
    canvas_title_with_id as canvas_title_with_id,
)
from .common import (
    EXPECTED as EXPECTED,
)
from .common import (
    FIXTURES as FIXTURES,
)
from .common import (
    ZIP_DATE as ZIP_DATE,
)
from .common import (
    Refused as Refused,
)
from .common import (
    php_float_cast as php_float_cast,
)
from .common import (
    php_is_numeric as php_is_numeric,
)
from .common import (
    php_number as php_number,
)
from .common import (
    write_zip as write_zip,
)
from .common import (
    zip_of as zip_of,
)
from .moodle import (
    MoodleUser as MoodleUser,
)
from .moodle import (
    moodle_clean_filename as moodle_clean_filename,
)
from .moodle import (
    moodle_clean_param_file as moodle_clean_param_file,
)
from .moodle import (
    moodle_clean_param_path as moodle_clean_param_path,
)
from .moodle import (
    moodle_feedback_zip_check as moodle_feedback_zip_check,
)
from .moodle import (
    moodle_fullname as moodle_fullname,
)
from .moodle import (
    moodle_submission_member as moodle_submission_member,
)
from .moodle import (
    moodle_submission_prefix as moodle_submission_prefix,
)
from .moodle import (
    moodle_submission_zip as moodle_submission_zip,
)
from .moodle_grades import (
    MOODLE_COL_FEEDBACK as MOODLE_COL_FEEDBACK,
)
from .moodle_grades import (
    MOODLE_COL_GRADE as MOODLE_COL_GRADE,
)
from .moodle_grades import (
    MOODLE_COL_IDENTIFIER as MOODLE_COL_IDENTIFIER,
)
from .moodle_grades import (
    MOODLE_COL_MODIFIED_GRADE as MOODLE_COL_MODIFIED_GRADE,
)
from .moodle_grades import (
    MOODLE_DELIMITERS as MOODLE_DELIMITERS,
)
from .moodle_grades import (
    MOODLE_HIDDENUSER as MOODLE_HIDDENUSER,
)
from .moodle_grades import (
    MOODLE_USER_MAP_FIELDS as MOODLE_USER_MAP_FIELDS,
)
from .moodle_grades import (
    CurrentGrade as CurrentGrade,
)
from .moodle_grades import (
    GradebookImportRow as GradebookImportRow,
)
from .moodle_grades import (
    WorksheetImport as WorksheetImport,
)
from .moodle_grades import (
    WorksheetRow as WorksheetRow,
)
from .moodle_grades import (
    moodle_csv_import_reader as moodle_csv_import_reader,
)
from .moodle_grades import (
    moodle_gradebook_import_check as moodle_gradebook_import_check,
)
from .moodle_grades import (
    moodle_grading_worksheet as moodle_grading_worksheet,
)
from .moodle_grades import (
    moodle_participants_export as moodle_participants_export,
)
from .moodle_grades import (
    moodle_unformat_float as moodle_unformat_float,
)
from .moodle_grades import (
    moodle_userdate as moodle_userdate,
)
from .moodle_grades import (
    moodle_worksheet_header as moodle_worksheet_header,
)
from .moodle_grades import (
    moodle_worksheet_import_check as moodle_worksheet_import_check,
)
from .moodle_grades import (
    php_fputcsv_line as php_fputcsv_line,
)
from .moodle_grades import (
    php_strtotime_userdate as php_strtotime_userdate,
)
