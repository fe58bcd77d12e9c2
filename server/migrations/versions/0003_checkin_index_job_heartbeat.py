"""index delegates by the site that admitted them; heartbeat of document jobs

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 15:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import conference.dbtypes


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The running count of people present at a site, taken once per group of
    # check-ins, reads this index instead of every delegate of the conference.
    with op.batch_alter_table('delegate', schema=None) as batch_op:
        batch_op.create_index('ix_delegate_checkin_site', ['checkin_site_id'], unique=False)
    # A running job whose process died is found by its old heartbeat.
    with op.batch_alter_table('document_job', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('heartbeat_at', conference.dbtypes.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table('document_job', schema=None) as batch_op:
        batch_op.drop_column('heartbeat_at')
    with op.batch_alter_table('delegate', schema=None) as batch_op:
        batch_op.drop_index('ix_delegate_checkin_site')
