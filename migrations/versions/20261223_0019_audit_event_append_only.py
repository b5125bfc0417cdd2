"""audit_event is append-only: the database refuses any change or deletion of an audit row
(a deleted person's rows keep their e-mail; only their actor_id may become NULL)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-23 09:00:00.000000

"""
from __future__ import annotations

from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

SAME = ("NEW.id = OLD.id AND NEW.occurred_at = OLD.occurred_at AND NEW.actor = OLD.actor AND NEW.action = OLD.action "
        "AND NEW.object = OLD.object AND NEW.remote_addr = OLD.remote_addr AND NEW.details = OLD.details")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION mel_audit_event_guard() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'UPDATE' AND NEW.actor_id IS NULL AND {SAME.replace('NEW.details = OLD.details',
                                                                                'NEW.details::text = OLD.details::text')} THEN
                    RETURN NEW;  -- the person was deleted: ON DELETE SET NULL
                END IF;
                RAISE EXCEPTION 'audit_event is append-only' USING ERRCODE = 'check_violation';
            END $$ LANGUAGE plpgsql""")
        op.execute("""CREATE TRIGGER trg_audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
                      FOR EACH ROW EXECUTE FUNCTION mel_audit_event_guard()""")
        return
    op.execute(f"""
        CREATE TRIGGER trg_audit_event_append_only_update BEFORE UPDATE ON audit_event
        WHEN NOT (NEW.actor_id IS NULL AND {SAME})
        BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END""")
    op.execute("""
        CREATE TRIGGER trg_audit_event_append_only_delete BEFORE DELETE ON audit_event
        BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS trg_audit_event_append_only ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS mel_audit_event_guard()")
        return
    op.execute("DROP TRIGGER IF EXISTS trg_audit_event_append_only_update")
    op.execute("DROP TRIGGER IF EXISTS trg_audit_event_append_only_delete")
