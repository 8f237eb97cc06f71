"""The project's documentation stands alone: every citation of the method page resolves."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CITATION = re.compile(r"method\.md\s*§\s*(\d+)(?:\s*[–-]\s*(\d+))?((?:,\s*§\s*\d+)*)")


def _cited_sections() -> dict[int, list[str]]:
    cited: dict[int, list[str]] = {}
    files = [*ROOT.glob("src/**/*.py"), *ROOT.glob("docs/*.md"), *ROOT.glob("benchmarks/*.py"),
             ROOT / "README.md"]
    for path in files:
        for match in CITATION.finditer(path.read_text(encoding="utf-8")):
            first = int(match.group(1))
            last = int(match.group(2) or first)
            extra = [int(s) for s in re.findall(r"\d+", match.group(3) or "")]
            for section in [*range(first, last + 1), *extra]:
                cited.setdefault(section, []).append(str(path.relative_to(ROOT)))
    return cited


def test_every_cited_method_section_exists():
    headings = re.findall(r"^## (\d+)\. ", (ROOT / "docs" / "method.md").read_text(), re.M)
    present = {int(h) for h in headings}
    cited = _cited_sections()
    assert cited, "the code cites the method page; the pattern should find those citations"
    missing = {s: files for s, files in cited.items() if s not in present}
    assert not missing, f"citations of sections that docs/method.md lacks: {missing}"


def test_nothing_cites_files_outside_the_repository():
    offenders = [str(p.relative_to(ROOT)) for p in [*ROOT.glob("src/**/*.py"),
                                                     *ROOT.glob("docs/*.md"), ROOT / "README.md"]
                 if re.search(r"\.\./shared|shared/docs", p.read_text(encoding="utf-8"))]
    assert not offenders
