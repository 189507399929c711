"""workspace: reviewer comments, overridden prices, alert states, queue indexes

Revision ID: 0005_workspace
Revises: 0004_feed_holds
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_workspace"
down_revision: str | Sequence[str] | None = "0004_feed_holds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("price_changes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("comment", sa.Text(), nullable=True, comment="the reviewer's comment")
        )
        batch_op.add_column(
            sa.Column(
                "proposed_price",
                sa.BigInteger(),
                nullable=True,
                comment="the engine's price when a reviewer overrode new_price",
            )
        )
        batch_op.create_index(
            "ix_price_changes_run_status_sku", ["run_id", "status", "sku"], unique=False
        )
        batch_op.create_index("ix_price_changes_run_rule", ["run_id", "rule"], unique=False)
    op.create_table(
        "alert_states",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("destination", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False, comment="condition:subject"),
        sa.Column("condition", sa.String(length=30), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("clear_notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_states")),
        sa.UniqueConstraint("destination", "key", name=op.f("uq_alert_states_destination")),
    )


def downgrade() -> None:
    op.drop_table("alert_states")
    with op.batch_alter_table("price_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_price_changes_run_rule")
        batch_op.drop_index("ix_price_changes_run_status_sku")
        batch_op.drop_column("proposed_price")
        batch_op.drop_column("comment")
