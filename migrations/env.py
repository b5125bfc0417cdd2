"""Alembic environment: runs migrations against the engine the caller hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from mel.models import metadata
from mel.partitions import is_partition


def include_name(name, type_, parent_names) -> bool:
    """Autogenerate compares the models with the tables, not with the financial-year partitions of
    data_value and value_change (mel/partitions.py, PostgreSQL)."""
    return not (type_ == "table" and is_partition(name))

config = context.config


def _engine():
    engine = config.attributes.get("engine")
    if engine is not None:
        return engine
    # Plain `alembic` command line: use the configured application database.
    from config import load_config

    url = config.get_main_option("sqlalchemy.url") or load_config().DATABASE_URL
    return engine_from_config({"sqlalchemy.url": url}, prefix="sqlalchemy.", poolclass=pool.NullPool)


def run_migrations_offline() -> None:
    from config import load_config

    url = config.get_main_option("sqlalchemy.url") or load_config().DATABASE_URL
    context.configure(url=url, target_metadata=metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    with _engine().connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_name=include_name,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
