"""Placeholder for issue #12's import mappings (filled by the import work)

Revision ID: c12a01b2c3d4
Revises: c11a04c0deff
Create Date: 2026-11-29 19:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c12a01b2c3d4'
down_revision = 'c11a04c0deff'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
