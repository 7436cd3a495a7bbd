"""Placeholder in the issue #11 chain, filled in by the draws helper (issue #11 points 5, 6); removed if left empty

Revision ID: c11a02d7a3a3
Revises: c11a01a7e5e5
Create Date: 2026-11-29 15:40:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = 'c11a02d7a3a3'
down_revision = 'c11a01a7e5e5'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
