"""The render stage: one driver, interchangeable writers (the student files, the PDFs);
the LaTeX security boundary, the sheet and key views, typesetting and splitting."""
