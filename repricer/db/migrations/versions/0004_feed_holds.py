"""supplier offers: a cost held for review

Revision ID: 0004_feed_holds
Revises: 0003_crawl_shards
Create Date: 2026-11-27 23:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_feed_holds"
down_revision: str | Sequence[str] | None = "0003_crawl_shards"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("supplier_offers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "held_cost",
                sa.BigInteger(),
                nullable=True,
                comment="a cost from the feed held for review (moved beyond hold_cost_ratio)",
            )
        )
        batch_op.add_column(sa.Column("held_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("supplier_offers", schema=None) as batch_op:
        batch_op.drop_column("held_at")
        batch_op.drop_column("held_cost")
