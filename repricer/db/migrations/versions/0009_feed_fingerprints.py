"""feed fingerprints: an identical feed file or an unchanged offer is not read again

Revision ID: 0009_feed_fingerprints
Revises: 0008_leases
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_feed_fingerprints"
down_revision: str | Sequence[str] | None = "0008_leases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("supplier_offers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "feed_fp",
                sa.BigInteger(),
                nullable=True,
                comment="fingerprint of the feed item last applied whole; NULL once anything "
                "else writes the row (it is then read again)",
            )
        )
    with op.batch_alter_table("supplier_offers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_supplier_offers_fingerprints",
            ["supplier_id", "feed_fp", "available", "product_id", "held_cost", "updated_at"],
            unique=False,
        )
    with op.batch_alter_table("feed_syncs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "content_hash",
                sa.String(length=64),
                nullable=True,
                comment="SHA-256 of the applied feed file and the settings that read it",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("feed_syncs", schema=None) as batch_op:
        batch_op.drop_column("content_hash")
    with op.batch_alter_table("supplier_offers", schema=None) as batch_op:
        batch_op.drop_index("ix_supplier_offers_fingerprints")
        batch_op.drop_column("feed_fp")
