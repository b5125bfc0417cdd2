"""Set up the virtual environment and run the service or the tests (standard library only).

    python3 -m mel.bootstrap run     # create .venv, install, migrate, seed, load demo, serve
    python3 -m mel.bootstrap test    # create .venv, install with test extras, run pytest

Extra arguments are passed on (to `mel quickstart` or to pytest).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def _say(message: str) -> None:
    print(f"[mel] {message}", flush=True)


def ensure_environment(extras: str = "") -> None:
    """Create .venv and install the project (editable) unless pyproject.toml is unchanged."""
    if sys.version_info < (3, 11):  # noqa: UP036 - run by whatever python3 the user has
        sys.exit(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}.")
    if not (BIN / "python").exists():
        _say(f"creating the virtual environment in {VENV}")
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    stamp = VENV / f".installed-{extras or 'base'}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    _say("installing the project and its pinned dependencies (first run takes a few minutes)")
    python = str(BIN / "python")
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    target = f".[{extras}]" if extras else "."
    subprocess.run([python, "-m", "pip", "install", "--quiet", "-e", target], check=True, cwd=ROOT)
    stamp.write_text(digest)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("run", "test"):
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    os.chdir(ROOT)
    if command == "run":
        ensure_environment()
        return subprocess.call([str(BIN / "mel"), "quickstart", *rest])
    ensure_environment("test")
    return subprocess.call([str(BIN / "python"), "-m", "pytest", *_parallel(rest)])


def _parallel(args: list[str]) -> list[str]:
    """Spread the suite over the machine's cores (pytest-xdist), one test file per worker at a time.

    A file stays on one worker so its module fixtures (a served app, a fresh demo) are built once;
    each worker has its own database (tests/helpers.py) and Redis database (tests/app/queue_helpers.py).
    Passing -n yourself (-n 0 for one process) overrides this.
    """
    if any(a == "-n" or a.startswith(("-n", "--numprocesses")) for a in args):
        return args
    return ["-n", "auto", "--maxprocesses", "4", "--dist", "loadfile", *args]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
