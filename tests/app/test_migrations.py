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
from mel.partitions import is_partition
from tests.helpers import fresh_database_url, seeded_app


def test_there_is_exactly_one_migration_head():
    assert len(heads()) == 1


def test_models_match_migrations(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True,  # the financial-year partitions of data_value and value_change are not models
            "include_name": lambda name, type_, parents: not (type_ == "table" and is_partition(name))})
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
    result = app.test_cli_runner().invoke(args=["quickstart", "--no-serve", "--port", "5000", "--as-of", "2026-12-04"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:5000/" in result.output
    assert "secretariat@demo.test" in result.output and "demo-password-2025" in result.output
    assert "2008 returns" in result.output
    with app.app_context():
        db.engine.dispose()


def test_0011_keeps_figures_and_gives_old_explanations_their_reason(tmp_path_factory):
    """Upgrading a database with figures and explained flags: the new columns come without
    rebuilding `indicator` (foreign keys point at it) and old explanations get their reason code."""
    from alembic import command
    from sqlalchemy import insert, text

    from mel.migrate import alembic_config, upgrade
    from mel.returns.models import Return

    app = seeded_app(tmp_path_factory, "m0011")
    with app.app_context():
        engine = db.engine
        command.downgrade(alembic_config(engine), "0010")
        with engine.begin() as connection:
            programme, unit = connection.execute(text(
                "SELECT p.id, o.id FROM programme p, org_unit o WHERE p.code = 'OPCT' AND o.code = '042'")).one()
            form = connection.execute(text("SELECT id FROM reporting_form WHERE programme_id = :p"),
                                      {"p": programme}).scalar()
            indicator = connection.execute(text("SELECT id FROM indicator WHERE code = 'SA15'")).scalar()
            return_id = connection.execute(insert(Return.__table__).values(
                programme_id=programme, org_unit_id=unit, period="2025Q3", form_id=form, state="draft",
                version=1, is_late=False, narrative="").returning(Return.__table__.c.id)).scalar()
            for key, explanation in (("a", "Drought scale-up: rains failed"), ("b", "ok"), ("c", "")):
                connection.execute(text(
                    "INSERT INTO value_flag (return_id, flag_key, kind, severity, indicator_id, component, "
                    "rule_code, message, explanation, created_at) VALUES (:r, :k, 'outlier', 'warning', :i, "
                    "'value', '', 'm', :e, CURRENT_TIMESTAMP)"), {"r": return_id, "k": key, "i": indicator,
                                                                   "e": explanation})
        upgrade(engine)
        with engine.connect() as connection:
            codes = dict(connection.execute(text("SELECT flag_key, explanation_code FROM value_flag")).all())
            seasonal = connection.execute(text("SELECT check_seasonal FROM indicator WHERE code = 'SA15'")).scalar()
        assert codes == {"a": "drought_scale_up", "b": "other", "c": ""}
        assert not seasonal
        engine.dispose()
