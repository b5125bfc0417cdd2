"""Every error the service raises for a page, and every flash message, is a message that the page says
in its reader's language (issue 19): no English literal or f-string is passed to `ValidationFailed`,
`Conflict`, `Forbidden`, `NotFound`, `Unauthorized`, `MelError`, `ErrorDetail` or `flash` in mel/,
except in the modules only the API, the command line or the demo loader reach (they answer in English,
as the API always has)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CALLS = {"ValidationFailed", "Conflict", "NotFound", "Forbidden", "MelError", "Unauthorized", "ErrorDetail", "flash"}

# Modules whose English literals only the API, the command line or the demo loader ever say, with how
# many there are: a new one here must be a message, or be counted (and explained) here.
ENGLISH_ONLY = {
    "mel/accounts/api.py": 3,  # /api/v1 only
    "mel/accounts/auth.py": 2,  # the API's 401; pages redirect to the sign-in page instead
    "mel/accounts/operations.py": 3,  # tokens created and revoked on the command line
    "mel/catalogue/api.py": 1,
    "mel/catalogue/disaggregation_api.py": 3,
    "mel/catalogue/indicator_api.py": 2,
    "mel/catalogue/rule_api.py": 1,
    "mel/cli.py": 2,
    "mel/demo.py": 1,
    "mel/demo_live.py": 2,
    "mel/plans/api.py": 2,
    "mel/reporting/api.py": 1,
    "mel/reporting/cli.py": 3,
    "mel/reporting/snapshot.py": 3,  # gathering checks the command line reaches; the web checks first
    "mel/security.py": 2,  # API tokens and JSON bodies
}


def _english(node: ast.AST) -> bool:
    """A literal with words in it (an f-string, or a string concatenated), not a separator."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and any(c.isalpha() for c in node.value)
    if isinstance(node, ast.JoinedStr):
        return any(_english(part) for part in node.values if isinstance(part, ast.Constant)) or not node.values
    if isinstance(node, ast.BinOp):
        return _english(node.left) or _english(node.right)
    return False


def _english_literals(path: Path) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            if name in CALLS and node.args and _english(node.args[0]):
                lines.append(node.lineno)
    return sorted(lines)


def test_no_english_literal_reaches_a_page():
    found = {}
    for path in sorted((ROOT / "mel").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        lines = _english_literals(path)
        if len(lines) > ENGLISH_ONLY.get(relative, 0):
            found[relative] = lines
    assert not found, f"English literals passed to errors or flash (make them messages): {found}"


@pytest.mark.parametrize("relative", sorted(ENGLISH_ONLY))
def test_the_english_only_modules_are_counted_exactly(relative):
    """A count that is too high would let a new English literal in unseen."""
    assert len(_english_literals(ROOT / relative)) == ENGLISH_ONLY[relative]


def test_the_check_finds_what_it_should(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('raise ValidationFailed("Write the question.")\n'
                      'raise Conflict(f"{code} exists")\n'
                      'flash(_("Saved.") + " " + _("Done."))\n'
                      'raise NotFound(text(message(N_("No import %(n)s."), n=4)))\n'
                      'problems.append(ErrorDetail("code: " + reason))\n', encoding="utf-8")
    assert _english_literals(sample) == [1, 2, 5]
