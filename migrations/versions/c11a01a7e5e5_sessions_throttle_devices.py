"""Placeholder in the issue #11 chain, filled in by the auth helper (issue #11 points 7, 8); removed if left empty

Revision ID: c11a01a7e5e5
Revises: 9b1f3c2d4e5a
Create Date: 2026-11-29 15:40:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = 'c11a01a7e5e5'
down_revision = '9b1f3c2d4e5a'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
