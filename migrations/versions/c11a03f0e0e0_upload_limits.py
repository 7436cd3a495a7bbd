"""Placeholder in the issue #11 chain, filled in by the uploads helper (issue #11 points 4, 11, 12, 14); removed if left empty

Revision ID: c11a03f0e0e0
Revises: c11a02d7a3a3
Create Date: 2026-11-29 15:40:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = 'c11a03f0e0e0'
down_revision = 'c11a02d7a3a3'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
