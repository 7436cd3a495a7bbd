"""Photo ownership per uploader: photo_upload, one row per app user or enterprise link that sent a photo (issue #11 point 4)

The photo file stays content-addressed (stored once); who sent it is now recorded per uploader, so the
existence probe answers only for the caller's group and a record may cite only its group's photos.
Existing photos are attributed from what the database knows: a photo an enterprise sent through its
link (an evidence row names it) belongs to that link; any other photo to the account that uploaded it.

Revision ID: c11a03f0e0e0
Revises: c11a02d7a3a3
Create Date: 2026-11-29 15:40:00

"""
import json
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


revision = 'c11a03f0e0e0'
down_revision = 'c11a02d7a3a3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'photo_upload',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('link_id', sa.Integer(), nullable=True),
        sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('(user_id IS NULL) <> (link_id IS NULL)', name=op.f('ck_photo_upload_one_uploader')),
        sa.ForeignKeyConstraint(['sha256'], ['photo.sha256'], name=op.f('fk_photo_upload_sha256_photo')),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_photo_upload_user_id_user_account')),
        sa.ForeignKeyConstraint(['link_id'], ['enterprise_link.id'],
                                name=op.f('fk_photo_upload_link_id_enterprise_link')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_photo_upload')),
        sa.UniqueConstraint('sha256', 'user_id', name=op.f('uq_photo_upload_sha256_user_id')),
        sa.UniqueConstraint('sha256', 'link_id', name=op.f('uq_photo_upload_sha256_link_id')),
    )
    with op.batch_alter_table('photo_upload', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_photo_upload_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_photo_upload_link_id'), ['link_id'], unique=False)

    conn = op.get_bind()
    photo = sa.table('photo', sa.column('sha256', sa.String), sa.column('uploaded_by', sa.Integer),
                     sa.column('received_at', sa.DateTime(timezone=True)))
    evidence = sa.table('evidence', sa.column('link_id', sa.Integer), sa.column('photos', sa.Text),
                        sa.column('submitted_at', sa.DateTime(timezone=True)))
    link = sa.table('enterprise_link', sa.column('id', sa.Integer), sa.column('created_by', sa.Integer))
    upload = sa.table('photo_upload', sa.column('sha256', sa.String), sa.column('user_id', sa.Integer),
                      sa.column('link_id', sa.Integer), sa.column('uploaded_at', sa.DateTime(timezone=True)))
    creators = dict(conn.execute(sa.select(link.c.id, link.c.created_by)).all())
    photos = {sha: (by, at) for sha, by, at in conn.execute(
        sa.select(photo.c.sha256, photo.c.uploaded_by, photo.c.received_at)).all()}
    rows, by_link = [], set()
    # JSON is read as text and parsed here: the same code on SQLite and PostgreSQL.
    for link_id, shas, at in conn.execute(sa.select(evidence.c.link_id, sa.cast(evidence.c.photos, sa.Text),
                                                    evidence.c.submitted_at)).all():
        for sha in json.loads(shas or "[]"):
            if sha in photos and (sha, link_id) not in by_link:
                by_link.add((sha, link_id))
                rows.append({"sha256": sha, "user_id": None, "link_id": link_id, "uploaded_at": at})
    linked = {(sha, creators.get(link_id)) for sha, link_id in by_link}
    for sha, (by, at) in photos.items():
        if (sha, by) not in linked:  # the team lead who issued a link did not send its photos
            rows.append({"sha256": sha, "user_id": by, "link_id": None,
                         "uploaded_at": at or datetime.now(timezone.utc)})
    for start in range(0, len(rows), 1000):
        conn.execute(sa.insert(upload), rows[start:start + 1000])


def downgrade():
    with op.batch_alter_table('photo_upload', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_photo_upload_link_id'))
        batch_op.drop_index(batch_op.f('ix_photo_upload_user_id'))
    op.drop_table('photo_upload')
