"""`mel backup` / `mel restore`: the database and the report PDFs in one archive, checked on the way back.

An archive is a tar file holding `manifest.json` (when, which schema revision, which engine, and
the SHA-256 of every file), the database (`database.sqlite3` made with SQLite's online backup API,
or `database.pgdump` made by `pg_dump -Fc`) and `reports/` (the PDFs the report runs point to,
which are checked against their checksums before they are served). Restoring puts the database
back (SQLite's backup API, or the dump as SQL, run by psql in one transaction after emptying the schema) and the PDFs, then checks every
file against the manifest. Nothing here is hand-made: the engines' own tools do the copying.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from mel.errors import MelError


class BackupError(MelError):
    """A backup or restore that could not be done, and why."""


@dataclass
class Manifest:
    created_at: str
    engine: str
    revision: str | None
    files: dict[str, str] = field(default_factory=dict)  # archive name -> sha256

    def describe(self) -> str:
        reports = sum(1 for name in self.files if name.startswith("reports/"))
        return (f"{self.engine} database at revision {self.revision}, {reports} report file(s), "
                f"made {self.created_at}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up or restored.")
    return Path(database)


def backup(database_url: str, reports_dir: Path, target: Path, revision: str | None) -> Manifest:
    """Write the archive to `target` (a new file); the running service may go on meanwhile."""
    engine = make_url(database_url).get_backend_name()
    manifest = Manifest(datetime.now(UTC).isoformat(timespec="seconds"), engine, revision)
    with tempfile.TemporaryDirectory() as work:
        work_dir = Path(work)
        if engine == "sqlite":
            dump = work_dir / "database.sqlite3"
            source = sqlite3.connect(_sqlite_path(database_url))
            copy = sqlite3.connect(dump)
            with copy:
                source.backup(copy)
            copy.close()
            source.close()
        elif engine == "postgresql":
            dump = work_dir / "database.pgdump"
            _run(["pg_dump", "--format=custom", "--no-owner", f"--dbname={_libpq(database_url)}", f"--file={dump}"])
        else:
            raise BackupError(f"Backing up a {engine} database is not supported (SQLite and PostgreSQL are).")
        members: list[tuple[Path, str]] = [(dump, dump.name)]
        if reports_dir.is_dir():
            members += [(path, f"reports/{path.relative_to(reports_dir).as_posix()}")
                        for path in sorted(reports_dir.rglob("*")) if path.is_file()]
        manifest.files = {name: _sha256(path) for path, name in members}
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        with tarfile.open(partial, "w") as archive:
            data = json.dumps(manifest.__dict__, indent=1).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
            for path, name in members:
                archive.add(path, arcname=name, recursive=False)
        partial.replace(target)  # a half-written archive never takes the name
    return manifest


def read_manifest(source: Path) -> Manifest:
    try:
        with tarfile.open(source, "r") as archive:
            member = archive.extractfile("manifest.json")
            if member is None:
                raise KeyError("manifest.json")
            data = json.loads(member.read())
    except (tarfile.TarError, KeyError, json.JSONDecodeError, OSError) as exc:
        raise BackupError(f"{source} is not a backup made by `mel backup` ({exc}).") from None
    return Manifest(**data)


def restore(database_url: str, reports_dir: Path, source: Path) -> Manifest:
    """Put the database and the report files of the archive back, then check every file."""
    manifest = read_manifest(source)
    engine = make_url(database_url).get_backend_name()
    if engine != manifest.engine:
        raise BackupError(f"{source} holds a {manifest.engine} database; this service uses {engine}.")
    with tempfile.TemporaryDirectory() as work:
        work_dir = Path(work)
        with tarfile.open(source, "r") as archive:
            archive.extractall(work_dir, filter="data")
        for name, digest in manifest.files.items():
            if _sha256(work_dir / name) != digest:
                raise BackupError(f"{name} in {source} does not match its checksum: the archive is damaged; "
                                  "nothing was restored.")
        if engine == "sqlite":
            backup_db = sqlite3.connect(work_dir / "database.sqlite3")
            target = sqlite3.connect(_sqlite_path(database_url))
            with target:
                backup_db.backup(target)
            target.close()
            backup_db.close()
        else:
            # pg_restore --clean cannot drop a partition's inherited keys (migration 0034): the dump becomes
            # SQL run by psql after emptying the schema, all in one transaction (a failure changes nothing).
            _run(["pg_restore", "--no-owner", "--file", str(work_dir / "restore.sql"), str(work_dir / "database.pgdump")])
            (work_dir / "empty.sql").write_text("DROP SCHEMA IF EXISTS public CASCADE;\nCREATE SCHEMA public;\n")
            _run(["psql", "--no-psqlrc", "--quiet", "--single-transaction", "--set", "ON_ERROR_STOP=1",
                  f"--dbname={_libpq(database_url)}", "--file", str(work_dir / "empty.sql"),
                  "--file", str(work_dir / "restore.sql")])
        for name, digest in manifest.files.items():
            if not name.startswith("reports/"):
                continue
            destination = reports_dir / name.removeprefix("reports/")
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(work_dir / name, destination)
            if _sha256(destination) != digest:
                raise BackupError(f"{destination} was not written whole; run the restore again.")
    return manifest


def _run(command: list[str]) -> None:
    try:
        subprocess.run(command, check=True, capture_output=True, text=True)
    except FileNotFoundError:
        raise BackupError(f"{command[0]} is not installed (Debian: postgresql-client).") from None
    except subprocess.CalledProcessError as exc:
        raise BackupError(f"{command[0]} failed: {exc.stderr.strip()[-500:]}") from None
