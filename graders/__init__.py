"""Grading of submitted answer CSVs against a worksheet's manifest."""
