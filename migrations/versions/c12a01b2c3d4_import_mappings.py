"""import_mapping and import_value_mapping: an office's own columns and words, remembered per registry (issue #12)

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
    op.create_table(
        'import_mapping',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('signature', sa.String(length=64), nullable=False),
        sa.Column('columns', sa.JSON(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('kind', 'signature'),
    )
    op.create_table(
        'import_value_mapping',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('field', sa.String(length=40), nullable=False),
        sa.Column('source', sa.String(length=200), nullable=False),
        sa.Column('target', sa.String(length=60), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('kind', 'field', 'source'),
    )


def downgrade():
    op.drop_table('import_value_mapping')
    op.drop_table('import_mapping')
