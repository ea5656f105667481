"""The project's citations point at what a reader can open: every section of docs/design.md that the
repository cites (``docs/design.md#<anchor>``) is a heading there, and nothing cites the spec that lives
outside the repository."""

from __future__ import annotations

import os
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DESIGN = REPO / "docs" / "design.md"
#: Generated or local trees: not the project's text (their READMEs are, see ``project_texts``).
SKIPPED_DIRS = {".git", ".venv", "__pycache__", ".pytest_cache", ".snakemake", "logs", "wheels"}
GENERATED_TOP = {"data", "results", "reports"}
CITATION = re.compile(r"docs/design\.md#([A-Za-z0-9_-]+)")
#: How the outside spec was cited: its upper-case name, then ".md" or a section sign (split so this file does not match).
OUTSIDE_SPEC = re.compile("DESIGN" + r"(\.md|\s*§)")


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def design_anchors() -> set[str]:
    text = DESIGN.read_text(encoding="utf-8")
    return {github_anchor(line.lstrip("#")) for line in text.splitlines() if re.match(r"#{1,6} ", line)}


def project_texts() -> dict[str, str]:
    """Every text file of the project (source, tests, tools, workflow, docs, READMEs), by relative path."""
    texts = {}
    for folder, dirs, files in os.walk(REPO):
        relative_folder = Path(folder).relative_to(REPO)
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS and not d.endswith(".egg-info")
                   and not (relative_folder == Path(".") and d in GENERATED_TOP)]
        for name in files:
            try:
                texts[(relative_folder / name).as_posix()] = (Path(folder) / name).read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue  # binary fixtures
    for top in GENERATED_TOP:  # of the generated trees, only the READMEs that say what appears there
        readme = REPO / top / "README.md"
        if readme.is_file():
            texts[f"{top}/README.md"] = readme.read_text(encoding="utf-8")
    return texts


def test_every_cited_section_of_the_design_page_exists():
    anchors = design_anchors()
    assert github_anchor("Optimiser and schedule") == "optimiser-and-schedule" and github_anchor("SE-ASPP") == "se-aspp"
    cited = {(name, anchor) for name, text in project_texts().items() for anchor in CITATION.findall(text)}
    assert len(cited) > 30, "the modules cite docs/design.md sections; did the citation form change?"
    missing = sorted(f"{name}: #{anchor}" for name, anchor in cited if anchor not in anchors)
    assert not missing, f"citations of sections docs/design.md does not have: {missing}"


def test_nothing_cites_the_spec_outside_the_repository():
    stale = sorted(name for name, text in project_texts().items() if OUTSIDE_SPEC.search(text))
    assert not stale, f"cite docs/design.md#<section> instead of the outside spec in: {stale}"


def test_readme_links_the_design_page():
    assert "(docs/design.md)" in (REPO / "README.md").read_text(encoding="utf-8")
