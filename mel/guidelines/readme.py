"""The rules of compilation and achievement, quoted from README.md, the one place they are stated.

README marks the passages the handbook quotes with HTML comments (invisible where README is read):

    <!-- handbook: compilation (…) -->
    - **Results and dashboards**: … compiled by the rules in `indicators/compile.py` — …
    <!-- /handbook -->

Each passage is quoted word for word (markdown text; reports/handbook.py prints its paragraphs,
lists, bold and code), so the handbook never states a rule differently from README. An edition keeps
the text it quoted.
"""

from __future__ import annotations

import re
from pathlib import Path

from indicators.messages import N_, message, text
from mel.errors import MelError

README = Path(__file__).resolve().parent.parent.parent / "README.md"
PASSAGES = ("compilation", "achievement")  # in the handbook's order
_START = re.compile(r"^<!-- handbook: (?P<name>[a-z_]+)\b[^>]*-->\s*$", re.MULTILINE)
_END = "<!-- /handbook -->"


def quoted(path: Path = README) -> list[dict]:
    """The marked passages of README, in the handbook's order: [{"name", "text"}] (markdown as written)."""
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MelError(text(message(N_("The handbook quotes its rules of compilation and achievement from "
                                       "%(file)s, which cannot be read (%(reason)s). Install the service from "
                                       "its source folder, with its README."), file=str(path),
                                    reason=exc.strerror or type(exc).__name__))) from exc
    found: dict[str, str] = {}
    for start in _START.finditer(source):
        end = source.find(_END, start.end())
        if end >= 0:
            found.setdefault(start.group("name"), source[start.end():end].strip("\n"))
    missing = [name for name in PASSAGES if not found.get(name, "").strip()]
    if missing:
        raise MelError(text(message(N_("README.md has no passage marked for the handbook (%(names)s): mark it "
                                       "<!-- handbook: NAME --> … <!-- /handbook -->."),
                                    names=", ".join(missing))))
    return [{"name": name, "text": found[name]} for name in PASSAGES]
