"""a warning's message kept as words, to say it in the reader's language

value_flag.message_words: the message of a stored warning as data (indicators/messages.py
`as_data`), beside its English text (value_flag.message, unchanged). Pages say it again in the
page's language; flags stored before this revision have no words and are shown in English until
their return is saved or checked again.

Revision ID: 0029
Revises: 0028
Create Date: 2027-01-02 09:00:00.000000

"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('value_flag', sa.Column('message_words', sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column('value_flag', 'message_words')  # plain DROP COLUMN (SQLite 3.35+), as in 0028
