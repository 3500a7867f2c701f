"""Where benchmark figures are written down: one ``## `` section each in docs/performance.md.

Each benchmark owns its section and replaces only that one, so running one benchmark never
touches another's figures.
"""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "performance.md"


def replace_section(heading: str, section: str, doc: Path = DOC) -> Path:
    """Put ``section`` (starting with ``heading``) in place of that heading's section, or append."""
    text = doc.read_text() if doc.exists() else "# Performance\n"
    body = section.rstrip("\n") + "\n"
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.M | re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _m: body + "\n", text, count=1).rstrip("\n") + "\n"
    else:
        text = text.rstrip("\n") + "\n\n" + body
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text)
    return doc
