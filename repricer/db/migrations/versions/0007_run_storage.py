"""compact run inputs and daily observation summaries

Revision ID: 0007_run_storage
Revises: 0006_matching
Create Date: 2026-11-27 23:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_run_storage"
down_revision: str | Sequence[str] | None = "0006_matching"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "repricing_run_inputs",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=20), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["repricing_runs.id"],
            name=op.f("fk_repricing_run_inputs_run_id_repricing_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_repricing_run_inputs")),
    )
    op.create_table(
        "observation_daily",
        sa.Column("listing_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("min_price", sa.BigInteger(), nullable=False),
        sa.Column("max_price", sa.BigInteger(), nullable=False),
        sa.Column("last_price", sa.BigInteger(), nullable=False),
        sa.Column(
            "last_at",
            sa.DateTime(timezone=True),
            nullable=False,
            comment="when the last price was seen",
        ),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column(
            "availability",
            sa.String(length=20),
            nullable=False,
            comment="of the last observation",
        ),
        sa.Column("count", sa.Integer(), nullable=False, comment="observations folded in"),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["listings.id"],
            name=op.f("fk_observation_daily_listing_id_listings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("listing_id", "day", name=op.f("pk_observation_daily")),
    )


def downgrade() -> None:
    op.drop_table("observation_daily")
    op.drop_table("repricing_run_inputs")
