"""Jinja2 LaTeX templates for sheets and keys (package data)."""
