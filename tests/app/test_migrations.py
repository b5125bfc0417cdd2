"""The schema comes from migrations, the migrations match the models, and the seed is idempotent."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select

from mel.app import create_app
from mel.catalogue.models import Indicator, OrgUnit, Programme
from mel.catalogue.operations import seed_catalogue
from mel.db import db
from mel.migrate import current_revision, heads
from mel.models import metadata
from tests.helpers import fresh_database_url


def test_there_is_exactly_one_migration_head():
    assert len(heads()) == 1


def test_models_match_migrations(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, metadata)
    assert diff == [], f"models and migrations differ; run alembic revision --autogenerate: {diff}"


def test_upgrade_then_seed_twice_on_an_empty_database(tmp_path_factory):
    url = fresh_database_url(tmp_path_factory, "fresh")
    app = create_app("testing", DATABASE_URL=url, INSTANCE_DIR=str(tmp_path_factory.mktemp("i")))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    assert "created 48 org_unit" in first.output
    second = runner.invoke(args=["seed"])
    assert second.exit_code == 0
    assert "nothing changed" in second.output
    with app.app_context():
        session = db.session
        assert current_revision(db.engine) == heads()[0]
        assert session.scalar(select(func.count()).select_from(OrgUnit)) == 48
        assert session.scalar(select(func.count()).select_from(OrgUnit).where(OrgUnit.level == 2)) == 47
        assert session.scalar(select(func.count()).select_from(Indicator)) == 40
        assert set(session.scalars(select(Programme.code))) == {
            "OPCT", "CTOVC", "PWSD", "HSNP", "NICHE", "COUNTY", "NSSF", "SHA", "SPS"}
        # A third seed straight through the operation reports no change either.
        assert not seed_catalogue(session).changed
        session.rollback()
        db.engine.dispose()


@pytest.mark.slow  # loads eight quarters of demo history into a new database
def test_quickstart_prepares_an_empty_database_and_prints_the_logins(tmp_path_factory):
    url = fresh_database_url(tmp_path_factory, "quick")
    app = create_app("testing", DATABASE_URL=url, INSTANCE_DIR=str(tmp_path_factory.mktemp("q")))
    result = app.test_cli_runner().invoke(args=["quickstart", "--no-serve", "--port", "5000"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:5000/" in result.output
    assert "secretariat@demo.test" in result.output and "demo-password-2025" in result.output
    assert "2008 returns" in result.output
    with app.app_context():
        db.engine.dispose()
