"""keep pushed revocations: a Redis restored from an older snapshot gets them again

The records of Redis revocation flags are no longer deleted once pushed, only marked:
`unpushed_revocations` becomes `revocation_records`, with a `pushed` column.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 13:40:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def _rename(old: str, new: str) -> None:
    with op.batch_alter_table(old, schema=None) as batch_op:
        batch_op.drop_index(f"ix_{old}_expires_at")
    op.rename_table(old, new)
    with op.batch_alter_table(new, schema=None) as batch_op:
        batch_op.create_index(f"ix_{new}_expires_at", ["expires_at"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE {new} RENAME CONSTRAINT pk_{old} TO pk_{new}")


def upgrade():
    _rename("unpushed_revocations", "revocation_records")
    with op.batch_alter_table("revocation_records", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("pushed", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table("revocation_records", schema=None) as batch_op:
        batch_op.drop_column("pushed")
    _rename("revocation_records", "unpushed_revocations")
