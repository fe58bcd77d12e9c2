"""index delegates by the site that admitted them

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 15:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The running count of people present at a site, taken once per group of
    # check-ins, reads this index instead of every delegate of the conference.
    with op.batch_alter_table('delegate', schema=None) as batch_op:
        batch_op.create_index('ix_delegate_checkin_site', ['checkin_site_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('delegate', schema=None) as batch_op:
        batch_op.drop_index('ix_delegate_checkin_site')
