"""listing match status and evidence; discovered candidates

Revision ID: 0006_matching
Revises: 0005_workspace
Create Date: 2026-11-27 23:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_matching"
down_revision: str | Sequence[str] | None = "0005_workspace"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=20), server_default="accepted", nullable=False)
        )
        batch_op.add_column(
            sa.Column("score", sa.Float(), nullable=True, comment="matcher score, 0..1")
        )
        batch_op.add_column(
            sa.Column(
                "evidence",
                sa.JSON(),
                nullable=False,
                server_default="[]",
                comment="why it was matched",
            )
        )
        batch_op.add_column(
            sa.Column("status_reason", sa.Text(), nullable=True, comment="why it is in review")
        )
        batch_op.add_column(sa.Column("match_gtin", sa.String(length=14), nullable=True))
        batch_op.add_column(sa.Column("match_title", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "candidates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("competitor_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=True),
        sa.Column("brand", sa.String(length=200), nullable=True),
        sa.Column("gtin", sa.String(length=14), nullable=True),
        sa.Column("model", sa.String(length=100), nullable=True),
        sa.Column("price", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("found_via", sa.String(length=20), nullable=False, comment="sitemap | search"),
        sa.Column("discovered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["competitor_id"],
            ["competitors.id"],
            name=op.f("fk_candidates_competitor_id_competitors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_candidates")),
        sa.UniqueConstraint("competitor_id", "url", name=op.f("uq_candidates_competitor_id")),
    )
    with op.batch_alter_table("candidates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_candidates_gtin"), ["gtin"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("candidates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_candidates_gtin"))
    op.drop_table("candidates")
    with op.batch_alter_table("listings", schema=None) as batch_op:
        for name in ("reviewed_at", "match_title", "match_gtin", "status_reason", "evidence",
                     "score", "status"):  # fmt: skip
            batch_op.drop_column(name)
