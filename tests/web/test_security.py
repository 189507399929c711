"""CSRF from another origin, authentication from the environment, and the bind check."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import sync_playwright
from typer.testing import CliRunner

from repricer.cli import app
from repricer.exceptions import ConfigError
from repricer.loopback import LoopbackServer, Response
from repricer.review import list_changes
from repricer.web.security import Credentials, check_bind, hash_password, verify_password
from spiders.browser import CHROMIUM_ARGS
from tests.web.conftest import Workspace, free_port, start_server, stop, wait_until_up
from tests.web.seed import build

CHROMIUM = "/usr/bin/chromium"


def statuses(ws: Workspace) -> dict[str, str]:
    return {r["sku"]: r["status"] for r in list_changes(ws.engine, status="all")}


def csrf_token(client: httpx.Client, url: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(url).text)
    assert found
    return found.group(1)


@pytest.mark.slow
def test_a_page_on_another_origin_cannot_approve(workspace: Workspace) -> None:
    """A real cross-origin page in Chromium auto-submits a form to the workspace."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    before = statuses(workspace)
    ids = [r["id"] for r in list_changes(workspace.engine)]
    fields = "".join(f'<input name="ids" value="{i}">' for i in ids)
    evil = (
        f'<form id="f" method="post" action="{workspace.url}/queue/decide">'
        f'<input name="action" value="approve"><input name="scope" value="selected">{fields}'
        '</form><script>document.getElementById("f").submit()</script>'
    )
    with LoopbackServer() as other, sync_playwright() as p:
        other.route("/evil", lambda _r: Response(200, evil, {"Content-Type": "text/html"}))
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(workspace.url + "/queue")  # the victim has the workspace open (cookie set)
        with page.expect_response(lambda r: r.url.endswith("/queue/decide")) as answer:
            page.goto(other.url("/evil"))
        assert answer.value.status == 403
        browser.close()
    assert statuses(workspace) == before


def test_state_changes_need_the_csrf_token(workspace: Workspace) -> None:
    with httpx.Client(base_url=workspace.url) as client:
        token = csrf_token(client, "/queue")
        change = list_changes(workspace.engine)[0]["id"]
        data = {"action": "approve", "ids": str(change)}
        assert client.post("/queue/decide", data=data).status_code == 403  # no token
        assert client.post("/queue/decide", data={**data, "csrf": "0" * 64}).status_code == 403
        with httpx.Client(base_url=workspace.url) as stranger:  # a token of another cookie
            assert stranger.post("/queue/decide", data={**data, "csrf": token}).status_code == 403
        assert client.post(f"/changes/{change}/override", data={"price": "1"}).status_code == 403
        assert all(r["status"] == "needs_approval" for r in list_changes(workspace.engine))
        done = client.post("/queue/decide", data={**data, "csrf": token})
        assert done.status_code == 303
    assert {r["id"] for r in list_changes(workspace.engine, status="approved")} == {change}


def test_pages_send_a_strict_policy(workspace: Workspace) -> None:
    answer = httpx.get(workspace.url + "/queue")
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert answer.headers["x-frame-options"] == "DENY"
    assert "samesite=strict" in answer.headers["set-cookie"].lower()


def test_non_loopback_bind_without_credentials_is_refused(tmp_path: Path) -> None:
    settings, _ = build(tmp_path)
    port = free_port()
    result = CliRunner().invoke(
        app,
        ["--config", str(settings.config_path), "serve", "--host", "0.0.0.0", "--port", str(port)],
    )
    assert result.exit_code == 1
    assert "refusing to serve on 0.0.0.0 without credentials" in result.output
    assert "REPRICER_WEB_PASSWORD_HASH" in result.output
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/queue", timeout=2)


def test_bind_rules() -> None:
    check_bind("127.0.0.1", Credentials())
    check_bind("::1", Credentials())
    check_bind("0.0.0.0", Credentials(token="t0ken"))
    with pytest.raises(ConfigError, match=r"refusing to serve on 192\.0\.2\.1"):
        check_bind("192.0.2.1", Credentials())


def test_password_hash_roundtrip() -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("scrypt$") and "correct horse" not in stored
    assert verify_password("correct horse", stored)
    assert not verify_password("wrong", stored)


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[str]:
    settings, _ = build(tmp_path)
    port = free_port()
    env = {"REPRICER_WEB_PASSWORD_HASH": hash_password("s3cret"), "REPRICER_WEB_TOKEN": "tok-123"}
    process = start_server(settings.config_path, port, env=env)  # type: ignore[arg-type]
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url + "/queue", process)
        yield url
    finally:
        stop(process)


def test_credentials_from_the_environment_are_required(guarded: str) -> None:
    assert httpx.get(guarded + "/queue").status_code == 401
    assert httpx.get(guarded + "/queue", auth=("maria", "wrong")).status_code == 401
    page = httpx.get(guarded + "/queue", auth=("maria", "s3cret"))
    assert page.status_code == 200 and "signed in as maria" in page.text
    bearer = {"Authorization": "Bearer tok-123"}
    assert httpx.get(guarded + "/queue", headers=bearer).status_code == 200
