"""Issue #13, part d: reserved for a schema change of one part of the work (empty until then)

Revision ID: d13d01b2c3d4
Revises: d13c01b2c3d4
Create Date: 2026-11-29 22:20:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = 'd13d01b2c3d4'
down_revision = 'd13c01b2c3d4'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
