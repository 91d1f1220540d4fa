"""The quiz stage: worksheet variants as LMS quiz questions (Moodle XML, Canvas QTI 1.2) and
as offline practice pages."""
