"""Placeholder in the issue #11 chain, filled in by the core (issue #11 points 1, 2, 4); removed if left empty

Revision ID: c11a04c0deff
Revises: c11a03f0e0e0
Create Date: 2026-11-29 15:40:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = 'c11a04c0deff'
down_revision = 'c11a03f0e0e0'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
