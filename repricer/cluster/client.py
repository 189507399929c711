"""A client for one Scrapyd node's JSON API (daemonstatus, addversion, listversions,
schedule, listjobs, cancel).

Credentials, when the node asks for them (Scrapyd's ``username``/``password``), come
from ``REPRICER_SCRAPYD_USERNAME`` and ``REPRICER_SCRAPYD_PASSWORD``; never from
config.toml.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import httpx

from repricer.exceptions import RepricerError

USERNAME_ENV = "REPRICER_SCRAPYD_USERNAME"
PASSWORD_ENV = "REPRICER_SCRAPYD_PASSWORD"
DEPLOY_TIMEOUT_S = 180.0


class NodeError(RepricerError):
    """Raised by :class:`ScrapydNode` when a node cannot be reached or answers with an
    error; ``node`` is its URL."""

    def __init__(self, node: str, message: str):
        self.node = node
        super().__init__(f"Scrapyd node {node}: {message}")


@dataclass(frozen=True)
class NodeJobs:
    """Job ids a node knows for one project, by state."""

    pending: frozenset[str]
    running: frozenset[str]
    finished: frozenset[str]
    logs: dict[str, str]  # job id -> the node's log URL of a finished job

    @property
    def busy(self) -> int:
        return len(self.pending) + len(self.running)


class ScrapydNode:
    """One node, e.g. ``ScrapydNode("http://node-a:6800")``."""

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        user, password = os.environ.get(USERNAME_ENV), os.environ.get(PASSWORD_ENV)
        auth = httpx.BasicAuth(user, password or "") if user else None
        self._http = httpx.Client(base_url=self.url, auth=auth, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def daemon_status(self) -> dict[str, Any]:
        return self._call("GET", "daemonstatus.json")

    def list_versions(self, project: str) -> list[str]:
        return list(self._call("GET", "listversions.json", params={"project": project})["versions"])

    def add_version(self, project: str, version: str, egg: bytes) -> None:
        self._call(
            "POST",
            "addversion.json",
            data={"project": project, "version": version},
            files={"egg": (f"{project}-{version}.egg", egg, "application/octet-stream")},
            timeout=DEPLOY_TIMEOUT_S,  # the node lists the egg's spiders in a child process
        )

    def schedule(
        self, project: str, spider: str, *, version: str, job_id: str, args: dict[str, str]
    ) -> str:
        data = {**args, "project": project, "spider": spider, "_version": version, "jobid": job_id}
        return str(self._call("POST", "schedule.json", data=data)["jobid"])

    def list_jobs(self, project: str) -> NodeJobs:
        body = self._call("GET", "listjobs.json", params={"project": project})
        ids = {state: frozenset(str(j["id"]) for j in body.get(state, [])) for state in
               ("pending", "running", "finished")}  # fmt: skip
        logs = {
            str(j["id"]): f"{self.url}{j['log_url']}"
            for j in body.get("finished", [])
            if j.get("log_url")
        }
        return NodeJobs(ids["pending"], ids["running"], ids["finished"], logs)

    def cancel(self, project: str, job_id: str) -> None:
        self._call("POST", "cancel.json", data={"project": project, "job": job_id})

    def _call(self, method: str, endpoint: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self._http.request(method, endpoint, **kwargs)
        except httpx.HTTPError as exc:
            raise NodeError(self.url, f"unreachable ({type(exc).__name__}: {exc})") from exc
        if response.status_code == 401:
            raise NodeError(
                self.url, f"refused the credentials (set {USERNAME_ENV}/{PASSWORD_ENV})"
            )
        try:
            body: dict[str, Any] = response.json()
        except ValueError:
            raise NodeError(
                self.url, f"{endpoint}: HTTP {response.status_code}, not JSON"
            ) from None
        if response.status_code >= 400 or body.get("status") != "ok":
            raise NodeError(self.url, f"{endpoint}: {body.get('message') or response.status_code}")
        return body
