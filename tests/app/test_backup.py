"""`mel backup` / `mel restore`: a round trip gives back every table row and every report PDF."""

from __future__ import annotations

import hashlib
import tarfile

from sqlalchemy import MetaData, delete, insert, select, text

from mel.app import create_app
from mel.db import db
from mel.reporting.operations import report_dir
from tests.helpers import fresh_database_url


def everything(app) -> dict:
    """Every row of every table, in key order, and the SHA-256 of every report file."""
    with app.app_context():
        metadata = MetaData()
        metadata.reflect(db.engine)
        rows = {}
        with db.engine.connect() as connection:
            for table in metadata.sorted_tables:
                order = list(table.primary_key.columns) or list(table.columns)
                rows[table.name] = [tuple(r) for r in connection.execute(select(table).order_by(*order))]
        folder = report_dir(app.config)
        files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()}
        db.engine.dispose()
    return {"rows": rows, "files": files}


def test_a_backup_restores_every_table_and_every_report_file(tmp_path_factory):
    url = fresh_database_url(tmp_path_factory, "backup")
    app = create_app("testing", DATABASE_URL=url, INSTANCE_DIR=str(tmp_path_factory.mktemp("b")), LOG_LEVEL="WARNING")
    runner = app.test_cli_runner()
    for args in (["db", "upgrade"], ["seed"], ["users", "create", "m.e@county.go.ke", "--role", "viewer",
                                                "--name", "M&E lead", "--password", "a long pass phrase 2026"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    with app.app_context():
        folder = report_dir(app.config)
        (folder / "run-1.pdf").write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 40)
        (folder / "run-2.pdf").write_bytes(b"%PDF-1.7\nsecond")
        db.engine.dispose()
    before = everything(app)
    assert before["rows"]["indicator"] and len(before["files"]) == 2

    archive = tmp_path_factory.mktemp("out") / "mel-backup.tar"
    made = runner.invoke(args=["backup", str(archive)])
    assert made.exit_code == 0, made.output
    assert "report file(s)" in made.output
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert {"manifest.json", "reports/run-1.pdf", "reports/run-2.pdf"} <= names

    # Damage: rows gone, a user changed, a PDF rewritten and another deleted.
    with app.app_context():
        from mel.accounts.models import User
        from mel.catalogue.models import ValidationRule

        db.session.execute(delete(ValidationRule))
        db.session.execute(text("UPDATE user_account SET name = 'changed'"))
        db.session.execute(insert(ValidationRule).values(code="VRX", name="x", left="SA01", operator="<=",
                                                         right="SA02", uid="abcdefghijk"))
        db.session.commit()
        assert db.session.scalar(select(User.name)) == "changed"
        (folder / "run-1.pdf").write_bytes(b"tampered")
        (folder / "run-2.pdf").unlink()
        db.session.close()
        db.engine.dispose()
    assert everything(app) != before

    refused = runner.invoke(args=["restore", str(archive)])
    assert refused.exit_code == 1 and "--yes" in refused.output
    restored = runner.invoke(args=["restore", str(archive), "--yes"])
    assert restored.exit_code == 0, restored.output
    assert everything(app) == before


def test_a_damaged_archive_restores_nothing(tmp_path_factory, app):
    broken = tmp_path_factory.mktemp("bad") / "not-a-backup.tar"
    broken.write_bytes(b"this is not a tar file")
    result = app.test_cli_runner().invoke(args=["restore", str(broken), "--yes"])
    assert result.exit_code == 1 and "is not a backup made by `mel backup`" in result.output


def test_an_archive_whose_files_do_not_match_their_checksums_restores_nothing(tmp_path_factory, app):
    import io
    import json

    from sqlalchemy.engine import make_url

    engine = make_url(app.config["DATABASE_URL"]).get_backend_name()
    name = "database.sqlite3" if engine == "sqlite" else "database.pgdump"
    archive = tmp_path_factory.mktemp("tamper") / "tampered.tar"
    with tarfile.open(archive, "w") as tar:
        for member, data in (("manifest.json", json.dumps({"created_at": "2026-12-03T10:00:00+00:00", "engine": engine,
                                                           "revision": "0011", "files": {name: "0" * 64}}).encode()),
                             (name, b"not the database that was backed up")):
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    result = app.test_cli_runner().invoke(args=["restore", str(archive), "--yes"])
    assert result.exit_code == 1 and f"{name} in {archive} does not match its checksum" in result.output
    assert "nothing was restored" in result.output
