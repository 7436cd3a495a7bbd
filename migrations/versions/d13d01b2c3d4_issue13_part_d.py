"""Issue #13, part d: an index for the batch summary (hazards by batch and status)

Revision ID: d13d01b2c3d4
Revises: d13a01b2c3d4
Create Date: 2026-11-29 22:20:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = 'd13d01b2c3d4'
down_revision = 'd13a01b2c3d4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('hazard', schema=None) as batch_op:
        batch_op.create_index('ix_hazard_batch_id_status', ['batch_id', 'status'], unique=False)


def downgrade():
    with op.batch_alter_table('hazard', schema=None) as batch_op:
        batch_op.drop_index('ix_hazard_batch_id_status')
