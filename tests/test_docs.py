"""The README and docs/: a short guide that opens with the Quick start, and no reference
anywhere in the repository to a file that is not in it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
#: Top-level folders of the clone whose files the texts name.
FOLDERS = ("docs", "bench", "examples", "scripts", "tests", "templates", "generator", "graders")
_PATH = re.compile(rf"(?<![\w./-])((?:{'|'.join(FOLDERS)})/[\w./-]*[\w/])")
_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def tracked_texts() -> list[Path]:
    names = subprocess.run(
        ["git", "ls-files", "*.py", "*.md", "*.toml", "*.sh", "*.j2", "Makefile", ".ci/run"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    # this file names missing files on purpose, to show the check sees them
    return [ROOT / n for n in names if (ROOT / n).exists() and n != "tests/test_docs.py"]


def test_the_readme_is_a_short_guide_that_opens_with_two_commands():
    text = README.read_text("utf-8")
    assert len(text.splitlines()) <= 200
    quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", quick, re.S)
    assert block, "the Quick start has one sh block"
    commands = [ln.split("#")[0].strip() for ln in block.group(1).splitlines() if ln.strip()]
    assert commands == ["make demo", "make test"]
    assert re.findall(r"^## .*", text, re.M)[0] == "## Quick start", "the first section"


def test_every_relative_link_of_the_docs_leads_to_a_file():
    broken = []
    for page in [README, *sorted((ROOT / "docs").glob("*.md"))]:
        for target in _LINK.findall(page.read_text("utf-8")):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert broken == []


def test_every_file_the_repository_names_is_in_it():
    missing = []
    for path in tracked_texts():
        for ref in _PATH.findall(path.read_text("utf-8", errors="replace")):
            if "<" in ref or "*" in ref:
                continue
            if not (ROOT / ref).exists():
                missing.append(f"{path.relative_to(ROOT)}: {ref}")
    assert missing == []


def test_nothing_cites_the_original_design_notes():
    """The contract lives in docs/ now; the notes it came from are not in the repository."""
    assert [
        p.relative_to(ROOT) for p in tracked_texts() if "design.md" in p.read_text("utf-8")
    ] == []


def test_the_path_check_sees_a_missing_file(tmp_path):
    assert _PATH.findall("see docs/nowhere.md and bench/bench_grade.py.") == [
        "docs/nowhere.md",
        "bench/bench_grade.py",
    ]
    assert not (ROOT / "docs/nowhere.md").exists()


def test_every_test_the_security_page_cites_exists():
    """Each guarantee names the test that proves it: the test must be there."""
    text = (ROOT / "docs" / "security.md").read_text("utf-8")
    cited = re.findall(r"(?:`(tests/\w+\.py))?::(test_\w+)", text)
    assert len(cited) >= 15
    current = "tests/test_hardening.py"
    for file, name in cited:
        current = file or current
        source = (ROOT / current).read_text("utf-8")
        assert f"def {name}(" in source, (current, name)
