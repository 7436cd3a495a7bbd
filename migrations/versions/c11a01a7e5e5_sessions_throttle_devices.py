"""Server-side web sessions, the shared rate-limit table, and the login trail's kind, refusal and known-device flag (issue #11 points 7, 8)

Each web sign-in gets a ``user_session`` row whose secret the signed cookie carries, so logging out,
a password change or an administrator's revoke ends it on every worker; API tokens remember the address
they were last used from (the devices page shows it); ``throttle_hit`` backs ``webapp.throttle.allow``;
``login_attempt`` tells a web sign-in from the app's token request and a current-password check, and
records attempts refused by the throttle without checking the password.

Revision ID: c11a01a7e5e5
Revises: 9b1f3c2d4e5a
Create Date: 2026-11-29 15:40:00

"""
from alembic import op
import sqlalchemy as sa



revision = 'c11a01a7e5e5'
down_revision = '9b1f3c2d4e5a'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'throttle_hit',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_throttle_hit')),
    )
    with op.batch_alter_table('throttle_hit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_throttle_hit_key'), ['key'], unique=False)
        batch_op.create_index(batch_op.f('ix_throttle_hit_at'), ['at'], unique=False)

    op.create_table(
        'user_session',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('device', sa.String(length=200), nullable=False),
        sa.Column('ip', sa.String(length=64), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_reason', sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_user_session_user_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_user_session')),
        sa.UniqueConstraint('key_hash', name=op.f('uq_user_session_key_hash')),
    )
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_session_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), nullable=False, server_default='login'))
        batch_op.add_column(sa.Column('refused', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('known_device', sa.Boolean(), nullable=False, server_default=sa.false()))

    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ip', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_column('ip')
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.drop_column('known_device')
        batch_op.drop_column('refused')
        batch_op.drop_column('kind')
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_session_user_id'))
    op.drop_table('user_session')
    with op.batch_alter_table('throttle_hit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_throttle_hit_at'))
        batch_op.drop_index(batch_op.f('ix_throttle_hit_key'))
    op.drop_table('throttle_hit')
