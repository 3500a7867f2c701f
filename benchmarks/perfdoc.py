"""Where benchmark figures are written down: one ``## `` section each in docs/performance.md.

Each benchmark owns its section and replaces only that one, so running one benchmark never
touches another's figures.
"""

from __future__ import annotations

import argparse
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


def arguments(doc: str, argv: list[str] | None = None, helps: dict[str, str] | None = None,
              **defaults: int | float) -> argparse.Namespace:
    """A benchmark's command line: ``--some-name N`` for each ``some_name=default`` (typed as
    its default, help from ``helps``) and ``--no-docs`` (print only; docs/performance.md is
    left alone). The description is the first line of ``doc``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    for name, default in defaults.items():
        parser.add_argument("--" + name.replace("_", "-"), type=type(default), default=default,
                            help=(helps or {}).get(name))
    parser.add_argument("--no-docs", "--no-doc", dest="no_docs", action="store_true",
                        help="print only: do not write docs/performance.md")
    return parser.parse_args(argv)
