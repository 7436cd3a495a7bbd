"""user_account.credential_epoch: a password change, sign-out-everywhere or deactivation unbinds known devices (issue #11 point 8)

Revision ID: c11a04c0deff
Revises: c11a03f0e0e0
Create Date: 2026-11-29 15:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c11a04c0deff'
down_revision = 'c11a03f0e0e0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credential_epoch', sa.Integer(), nullable=False, server_default='0'))


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('credential_epoch')
