"""Queue views over HTTP: an override of a change no longer pending is refused on the
change's page, naming the state, and changes nothing."""

from __future__ import annotations

import re

import httpx

from repricer import review
from tests.web.conftest import Workspace


def test_override_of_a_decided_change_is_refused_and_changes_nothing(
    workspace: Workspace,
) -> None:
    change = review.list_changes(workspace.engine)[0]
    review.reject(workspace.engine, ids=[change["id"]], by="bob")
    with httpx.Client(base_url=workspace.url) as client:
        page = client.get("/queue").text
        found = re.search(r'name="csrf" value="([^"]+)"', page)
        assert found
        answer = client.post(
            f"/changes/{change['id']}/override",
            data={"csrf": found.group(1), "price": "1 399", "comment": "too late"},
        )
    assert answer.status_code == 422
    assert "cannot go from rejected to approved" in answer.text
    [after] = [
        r for r in review.list_changes(workspace.engine, status="all") if r["id"] == change["id"]
    ]
    assert (after["status"], after["new_price"]) == ("rejected", change["new_price"])
