"""Sync records keep the phone's edit id of their current revision (a lost response is then told apart
from a real conflict), and outcomes, enterprise signatures and closures merge on a key like answers

Revision ID: 9b1f3c2d4e5a
Revises: ef6087bd91e3
Create Date: 2026-11-29 12:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '9b1f3c2d4e5a'
down_revision = 'ef6087bd91e3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sync_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('edit_id', sa.String(length=36), nullable=True))
    # Records synced before this revision: give the per-task kinds their merge key.
    op.execute("UPDATE sync_record SET question = 'outcome' WHERE kind = 'outcome'")
    if op.get_bind().dialect.name == "postgresql":
        role, hazard = "data->>'role'", "data->>'hazard'"
    else:
        role, hazard = "json_extract(data, '$.role')", "json_extract(data, '$.hazard')"
    op.execute(f"UPDATE sync_record SET question = 'signature:enterprise' WHERE kind = 'signature' AND {role} = 'enterprise'")
    op.execute(f"UPDATE sync_record SET question = 'closure:' || ({hazard}) WHERE kind = 'closure'")


def downgrade():
    op.execute("UPDATE sync_record SET question = NULL WHERE kind <> 'answer'")
    with op.batch_alter_table('sync_record', schema=None) as batch_op:
        batch_op.drop_column('edit_id')
