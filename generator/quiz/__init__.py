"""Worksheets for the learning platforms and for practice: quiz files and practice pages."""
