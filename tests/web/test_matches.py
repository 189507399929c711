"""The match proposals page on a real server: scores and evidence, filters, and
accept / reject through the CLI's library call, guarded by the CSRF token."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select

from repricer.db.engine import session_scope
from repricer.db.models import Competitor, Listing, Product
from repricer.matching.proposals import list_proposals
from tests.web.conftest import Workspace
from tests.web.test_security import csrf_token

# sku: (score, evidence)
PROPOSALS = {
    "KT-100": (0.42, ["title similarity 0.88", "price ratio 0.93"]),
    "KT-200": (0.31, ["same model code kb200", "brand differs: boreal / aurora"]),
    "GD-100": (0.12, ["title similarity 0.51"]),
}


def seed_proposals(ws: Workspace) -> dict[str, int]:
    """Review-band listings on pages discovery found; returns sku -> listing id."""
    ids = {}
    with session_scope(ws.engine) as session:
        shop = session.scalars(select(Competitor.id)).one()
        for sku, (score, evidence) in PROPOSALS.items():
            product = session.scalars(select(Product.id).where(Product.sku == sku)).one()
            listing = Listing(product_id=product, competitor_id=shop, url=f"https://alpha.test/found/{sku}",
                              match_method="score", confidence=score, status="review", score=score,
                              evidence=evidence, match_title=f"found {sku}")  # fmt: skip
            session.add(listing)
            session.flush()
            ids[sku] = listing.id
    return ids


def shown_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-id="(\d+)"', html)]


def statuses(ws: Workspace) -> dict[int, str]:
    return {
        r["id"]: status
        for status in ("review", "accepted", "rejected")
        for r in list_proposals(ws.engine, status=status)
    }


def test_proposals_with_score_evidence_and_filters(workspace: Workspace) -> None:
    ids = seed_proposals(workspace)
    with httpx.Client(base_url=workspace.url) as client:
        page = client.get("/matches")
        assert page.status_code == 200
        assert shown_ids(page.text) == [ids["KT-100"], ids["KT-200"], ids["GD-100"]]
        assert "0.42" in page.text and "same model code kb200" in page.text
        assert "https://alpha.test/found/KT-100" in page.text and "found KT-100" in page.text
        assert shown_ids(client.get("/matches?min_score=0.3").text) == [
            ids["KT-100"],
            ids["KT-200"],
        ]
        assert shown_ids(client.get("/matches?sku=GD-100").text) == [ids["GD-100"]]
        assert shown_ids(client.get("/matches?competitor=nobody").text) == []
        assert shown_ids(client.get("/matches?status=rejected").text) == []
        bad = client.get("/matches?min_score=high")
        assert bad.status_code == 400 and "minimum score &#39;high&#39;" in bad.text
        assert client.get("/matches?status=lost").status_code == 400


def test_accept_and_reject_need_the_csrf_token(workspace: Workspace) -> None:
    ids = seed_proposals(workspace)
    before = statuses(workspace)
    with httpx.Client(base_url=workspace.url) as client:
        token = csrf_token(client, "/matches")
        accept = {"action": "accept", "ids": [str(ids["KT-100"]), str(ids["KT-200"])]}
        assert client.post("/matches/decide", data=accept).status_code == 403
        assert client.post("/matches/decide", data={**accept, "csrf": "0" * 64}).status_code == 403
        assert statuses(workspace) == before
        done = client.post("/matches/decide", data={**accept, "csrf": token, "min_score": "0.2"})
        assert done.status_code == 303
        assert done.headers["location"].startswith("/matches?min_score=0.2&")
        rejected = client.post(
            "/matches/decide", data={"action": "reject", "ids": str(ids["GD-100"]), "csrf": token}
        )
        assert rejected.status_code == 303
        assert "rejected 1 listing(s)" in client.get(rejected.headers["location"]).text
        again = client.post(
            "/matches/decide", data={"action": "reject", "ids": str(ids["KT-100"]), "csrf": token},
            follow_redirects=True,
        )  # fmt: skip
        assert "rejected 0 listing(s); 1 no longer in review" in again.text
        empty = client.post("/matches/decide", data={"action": "accept", "csrf": token})
        assert empty.status_code == 400 and "select at least one proposal" in empty.text
    assert statuses(workspace) == {
        **before,
        ids["KT-100"]: "accepted",
        ids["KT-200"]: "accepted",
        ids["GD-100"]: "rejected",
    }
    with session_scope(workspace.engine) as session:
        accepted = session.get(Listing, ids["KT-100"])
        assert accepted is not None and accepted.confidence == 1.0 and accepted.reviewed_at
