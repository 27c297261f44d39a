"""audit log v2: personal fields outside the hash, Merkle tree leaves, signed checkpoints

Revision ID: d4e5f6a7b812
Revises: c3d4e5f6a712
Create Date: 2026-12-05 17:00:00.000000

The v1 events keep their chain links (`prev_hash`, `hash`, now nullable) for
`flask lms audit migrate-v1`, which checks the chain and then seals them as the tree's
first leaves. Their actor label and IP move to `audit_personal`, each with a fresh salt and
the commitment the leaf will hash. `seq` becomes the primary key (the old `id` goes).
"""
import hashlib
import hmac
import json
import os

from alembic import op
import sqlalchemy as sa

import lms.clock


# revision identifiers, used by Alembic.
revision = 'd4e5f6a7b812'
down_revision = 'c3d4e5f6a712'
branch_labels = None
depends_on = None

_BATCH = 5000


def _commitment(salt, actor_label, ip, subject_label):
    # The same as lms/audit/leaves.py `commitment`, written out so this migration never changes.
    body = json.dumps({"actor_label": actor_label, "ip": ip, "subject_label": subject_label},
                      sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(salt, body.encode("utf-8"), hashlib.sha256).hexdigest()


def upgrade():
    bind = op.get_bind()
    postgresql = bind.dialect.name == "postgresql"
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('commitment', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('xid', sa.BigInteger(), server_default='0', nullable=False))
    op.create_table('audit_personal',
    sa.Column('event_seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('salt', sa.LargeBinary(length=32), nullable=False),
    sa.Column('actor_label', sa.String(length=254), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.Column('subject_label', sa.String(length=254), nullable=False),
    sa.PrimaryKeyConstraint('event_seq', name=op.f('pk_audit_personal'))
    )

    # Personal fields out of the event, with a fresh salt and commitment each, in batches.
    personal = sa.table('audit_personal', sa.column('event_seq', sa.Integer), sa.column('salt', sa.LargeBinary),
                        sa.column('actor_label', sa.String), sa.column('ip', sa.String),
                        sa.column('subject_label', sa.String))
    last = 0
    while True:
        rows = bind.execute(sa.text("SELECT seq, actor_label, ip FROM audit_event WHERE seq > :last "
                                    "ORDER BY seq LIMIT :n"), {"last": last, "n": _BATCH}).all()
        if not rows:
            break
        values, commitments = [], []
        for seq, actor_label, ip in rows:
            salt = os.urandom(32)
            values.append({"event_seq": seq, "salt": salt, "actor_label": actor_label, "ip": ip or "",
                           "subject_label": ""})
            commitments.append({"c": _commitment(salt, actor_label, ip or "", ""), "s": seq})
        bind.execute(personal.insert(), values)
        bind.execute(sa.text("UPDATE audit_event SET commitment = :c WHERE seq = :s"), commitments)
        last = rows[-1][0]

    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.alter_column('commitment', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('xid', existing_type=sa.BigInteger(), server_default=None)
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=True)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=True)
        batch_op.drop_column('actor_label')
        batch_op.drop_column('ip')
        batch_op.drop_constraint('pk_audit_event', type_='primary')
        batch_op.drop_column('id')
        batch_op.drop_constraint('uq_audit_event_seq', type_='unique')
        batch_op.create_primary_key('pk_audit_event', ['seq'])
        batch_op.create_index('ix_audit_event_xid_seq', ['xid', 'seq'], unique=False)
    if postgresql:  # seq now numbers new events itself
        op.execute("CREATE SEQUENCE audit_event_seq_seq OWNED BY audit_event.seq")
        op.execute("SELECT setval('audit_event_seq_seq', COALESCE(MAX(seq), 0) + 1, false) FROM audit_event")
        op.execute("ALTER TABLE audit_event ALTER COLUMN seq SET DEFAULT nextval('audit_event_seq_seq')")

    with op.batch_alter_table('audit_personal', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_audit_personal_event_seq_audit_event'), 'audit_event',
                                    ['event_seq'], ['seq'])
    op.create_table('audit_leaf',
    sa.Column('index', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('event_seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.LargeBinary(length=32), nullable=False),
    sa.ForeignKeyConstraint(['event_seq'], ['audit_event.seq'], name=op.f('fk_audit_leaf_event_seq_audit_event')),
    sa.PrimaryKeyConstraint('index', name=op.f('pk_audit_leaf')),
    sa.UniqueConstraint('event_seq', name=op.f('uq_audit_leaf_event_seq'))
    )
    op.create_table('audit_checkpoint',
    sa.Column('tree_size', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('root_hash', sa.String(length=64), nullable=False),
    sa.Column('frontier', sa.JSON(), nullable=False),
    sa.Column('created_at', lms.clock.UTCDateTime(), nullable=False),
    sa.Column('key_id', sa.String(length=64), nullable=False),
    sa.Column('signature', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('tree_size', name=op.f('pk_audit_checkpoint'))
    )


def _v1_hash(prev_hash, seq, occurred_at, actor_id, actor_label, action, target_type, target_id, ip, data):
    # v1's chain hash (lms/audit/v1.py), written out so this migration never changes.
    body = {"seq": seq, "occurred_at": occurred_at.isoformat(timespec="microseconds"), "actor_id": actor_id,
            "actor": actor_label, "action": action, "target_type": target_type, "target_id": target_id,
            "ip": ip, "data": data}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def downgrade():
    """Back to the v1 chain: the personal fields return to the events ("erased" where they were
    erased) and the chain is recomputed over every event, so `lms audit verify` of v1 passes."""
    bind = op.get_bind()
    postgresql = bind.dialect.name == "postgresql"
    op.drop_table('audit_checkpoint')
    op.drop_table('audit_leaf')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('actor_label', sa.String(length=254), server_default='erased', nullable=False))
        batch_op.add_column(sa.Column('ip', sa.String(length=64), server_default='', nullable=False))
    bind.execute(sa.text("UPDATE audit_event SET actor_label = (SELECT p.actor_label FROM audit_personal p "
                         "WHERE p.event_seq = audit_event.seq), ip = (SELECT p.ip FROM audit_personal p "
                         "WHERE p.event_seq = audit_event.seq) "
                         "WHERE seq IN (SELECT event_seq FROM audit_personal)"))
    op.drop_table('audit_personal')

    events = sa.table('audit_event', sa.column('seq', sa.Integer), sa.column('occurred_at', lms.clock.UTCDateTime),
                      sa.column('actor_id', sa.Integer), sa.column('actor_label', sa.String),
                      sa.column('action', sa.String), sa.column('target_type', sa.String),
                      sa.column('target_id', sa.String), sa.column('ip', sa.String), sa.column('data', sa.JSON))
    previous, last = "0" * 64, 0
    while True:
        rows = bind.execute(sa.select(events).where(events.c.seq > last).order_by(events.c.seq).limit(_BATCH)).all()
        if not rows:
            break
        links = []
        for row in rows:
            digest = _v1_hash(previous, row.seq, row.occurred_at, row.actor_id, row.actor_label, row.action,
                              row.target_type, row.target_id, row.ip, row.data)
            links.append({"p": previous, "h": digest, "s": row.seq})
            previous = digest
        bind.execute(sa.text("UPDATE audit_event SET prev_hash = :p, hash = :h WHERE seq = :s"), links)
        last = rows[-1].seq

    if postgresql:
        op.execute("ALTER TABLE audit_event ALTER COLUMN seq DROP DEFAULT")
        op.execute("DROP SEQUENCE audit_event_seq_seq")
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_xid_seq')
        batch_op.drop_constraint('pk_audit_event', type_='primary')
        batch_op.create_unique_constraint(batch_op.f('uq_audit_event_seq'), ['seq'])
        batch_op.add_column(sa.Column('id', sa.Integer(), nullable=True))
    bind.execute(sa.text("UPDATE audit_event SET id = seq"))
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.alter_column('id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_primary_key('pk_audit_event', ['id'])
        batch_op.alter_column('actor_label', existing_type=sa.String(length=254), server_default=None)
        batch_op.alter_column('ip', existing_type=sa.String(length=64), server_default=None)
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_column('commitment')
        batch_op.drop_column('xid')
    if postgresql:  # id numbers new events again, as in v1
        op.execute("CREATE SEQUENCE audit_event_id_seq OWNED BY audit_event.id")
        op.execute("SELECT setval('audit_event_id_seq', COALESCE(MAX(id), 0) + 1, false) FROM audit_event")
        op.execute("ALTER TABLE audit_event ALTER COLUMN id SET DEFAULT nextval('audit_event_id_seq')")
