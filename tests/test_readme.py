"""The README's runnable examples (```python blocks) run as written; ```py blocks are sketches
that use the reader's own model and data."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_examples_run():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README shows the API in a ```python block"
    for block in blocks:
        exec(compile(block, str(README), "exec"), {})
