"""Draw sealing across batches and lottery issues: each draw records the draws whose tasks its files counted, and its 双色球 issue (issue #11 points 5, 6)

``draw_counted`` lists, for each draw, the draws whose random tasks its input files counted (the R10 lines
of excluded.csv, the R8/R9 units missing from mandatory.csv): its files and result are never public
before theirs (DRAW.md §1). ``draw.lottery_issue`` holds a lottery beacon's issue so that a new one must
be above every issue already used (DRAW.md §2).

Existing draws are filled in from what the database shows: a draw counted every random task of its
plan's year that was dispatched before its commitment and not cancelled by then; a lottery issue is read
from the beacon reference (the first draw to use an issue keeps it).

Revision ID: c11a02d7a3a3
Revises: c11a01a7e5e5
Create Date: 2026-11-29 15:40:00

"""
import re

from alembic import op
import sqlalchemy as sa


revision = 'c11a02d7a3a3'
down_revision = 'c11a01a7e5e5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'draw_counted',
        sa.Column('draw_pk', sa.Integer(), nullable=False),
        sa.Column('counted_pk', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['draw_pk'], ['draw.id'], name=op.f('fk_draw_counted_draw_pk_draw'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['counted_pk'], ['draw.id'], name=op.f('fk_draw_counted_counted_pk_draw')),
        sa.PrimaryKeyConstraint('draw_pk', 'counted_pk', name=op.f('pk_draw_counted')),
    )
    # A plain ADD COLUMN and a unique index: SQLite need not rebuild ``draw``, which other tables reference.
    op.add_column('draw', sa.Column('lottery_issue', sa.Integer(), nullable=True))

    op.execute("""
        INSERT INTO draw_counted (draw_pk, counted_pk)
        SELECT DISTINCT d.id, t.draw_pk
        FROM draw d
        JOIN batch b ON b.id = d.batch_id
        JOIN plan p ON p.id = b.plan_id
        JOIN task t ON t.draw_pk <> d.id AND t.kind = 'random' AND t.dispatched_at < d.committed_at
             AND (t.cancelled_at IS NULL OR t.cancelled_at > d.committed_at)
        JOIN batch tb ON tb.id = t.batch_id
        JOIN plan tp ON tp.id = tb.plan_id AND tp.year = p.year
        WHERE d.committed_at IS NOT NULL
    """)

    bind = op.get_bind()
    used = set()
    for pk, ref in bind.execute(sa.text("SELECT id, beacon_ref FROM draw WHERE drand_round IS NULL ORDER BY id")):
        match = re.match(r"福彩双色球 (\d{7})期", ref or "")
        if match and int(match.group(1)) not in used:
            used.add(int(match.group(1)))
            bind.execute(sa.text("UPDATE draw SET lottery_issue = :issue WHERE id = :pk"),
                         {"issue": int(match.group(1)), "pk": pk})
    op.create_index(op.f('ix_draw_lottery_issue'), 'draw', ['lottery_issue'], unique=True)


def downgrade():
    op.drop_table('draw_counted')
    op.drop_index(op.f('ix_draw_lottery_issue'), table_name='draw')
    op.drop_column('draw', 'lottery_issue')  # SQLite 3.35+ drops a column in place
