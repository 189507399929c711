"""crawl shards: one row per competitor (or SKU range) dispatched to a Scrapyd node

Revision ID: 0003_crawl_shards
Revises: 0002_stock
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_crawl_shards"
down_revision: str | Sequence[str] | None = "0002_stock"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crawl_shards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("crawl_run_id", sa.Integer(), nullable=False),
        sa.Column("competitor", sa.String(length=100), nullable=False),
        sa.Column("sku_from", sa.String(length=100), nullable=True),
        sa.Column("sku_to", sa.String(length=100), nullable=True),
        sa.Column("listings", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("node", sa.String(length=300), nullable=True),
        sa.Column("job_id", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["crawl_run_id"],
            ["crawl_runs.id"],
            name=op.f("fk_crawl_shards_crawl_run_id_crawl_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crawl_shards")),
    )
    with op.batch_alter_table("crawl_shards", schema=None) as batch_op:
        batch_op.create_index(
            "ix_crawl_shards_run_status", ["crawl_run_id", "status"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("crawl_shards", schema=None) as batch_op:
        batch_op.drop_index("ix_crawl_shards_run_status")
    op.drop_table("crawl_shards")
