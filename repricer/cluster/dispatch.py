"""Dispatch a crawl run's shards to Scrapyd nodes and follow them to the end.

Rules the loop keeps:

- at most one shard of a competitor runs at a time, anywhere in the cluster and across
  runs dispatched at once (the scheduler's and one started by hand), so the
  competitor's configured concurrency and delay hold across nodes;
- a node takes at most ``jobs_per_node`` jobs (counting what Scrapyd lists for the
  project, so concurrent dispatchers share the room);
- a node that does not answer for ``node_timeout`` is given up: its shards go back to
  pending and run on another node; a job that ends without finishing its shard is
  retried on another node, up to ``max_attempts`` in all, within the run's deadline;
- every shard move is a compare-and-set on its status and job id, and only the job named
  on the shard may store observations, so a job left behind on a lost node never stores
  a page twice (see ``spiders.pipelines``).
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine, Exists, exists, select, text, update
from sqlalchemy.orm import Session, aliased

from repricer import __version__
from repricer.cluster.client import NodeError, NodeJobs, ScrapydNode
from repricer.cluster.egg import Egg, build_egg
from repricer.cluster.node import node_payload
from repricer.cluster.shards import ShardPlan, create_shards
from repricer.config import Settings
from repricer.db.engine import session_scope
from repricer.db.models import Competitor, CrawlRun, CrawlShard, CrawlSiteStats, utcnow
from repricer.exceptions import CrawlError

log = logging.getLogger(__name__)
SPIDER = "product"
DONE = frozenset({"ok", "failed", "aborted"})


@dataclass
class _Node:
    client: ScrapydNode
    jobs: NodeJobs | None = None
    down_since: float | None = None
    scheduled: int = 0  # jobs started since the last listing
    abandoned: set[str] = field(default_factory=set)  # job ids given up, to cancel

    @property
    def url(self) -> str:
        return self.client.url

    def free(self, per_node: int) -> int:
        if self.down_since is not None or self.jobs is None:
            return 0
        return per_node - self.jobs.busy - self.scheduled


@dataclass
class _Shard:
    id: int
    plan: ShardPlan
    status: str = "pending"
    node: _Node | None = None
    job_id: str | None = None
    attempts: int = 0
    avoid: str | None = None  # the node the last attempt failed on
    error: str | None = None


def dispatch_crawl(
    settings: Settings, engine: Engine, run_id: int, plans: Sequence[ShardPlan], deadline: float
) -> tuple[str, str | None]:
    """Run ``plans`` as shards of crawl run ``run_id`` on the configured nodes until all
    are done or ``deadline`` (``time.monotonic()``) passes; returns (status, error)."""
    crawl = settings.crawl
    nodes = [_Node(ScrapydNode(url)) for url in crawl.scrapyd_nodes]
    try:
        egg = build_egg()
        deploy(nodes, crawl.scrapyd_project, egg)
        shards = [
            _Shard(i, plan)
            for i, plan in zip(create_shards(engine, run_id, plans), plans, strict=True)
        ]
        loop = _Loop(settings, engine, run_id, nodes, shards, egg)
        while not loop.finished():
            loop.poll()
            loop.reap()
            if loop.finished():
                break
            if time.monotonic() >= deadline:
                loop.abort(f"crawl stopped at the {crawl.run_timeout.total_seconds():g}s deadline")
                break
            loop.schedule()
            time.sleep(crawl.poll_interval.total_seconds())
        mark_unfinished_unhealthy(engine, run_id, [s for s in shards if s.status != "ok"])
        return summarize(shards)
    finally:
        for node in nodes:
            node.client.close()


def deploy(nodes: Sequence[_Node], project: str, egg: Egg) -> None:
    """Upload the egg to every node that lacks this version; a node that cannot take it
    is left out of the run. Raises ``CrawlError`` when no node is usable."""
    errors = []
    for node in nodes:
        try:
            if egg.version not in node.client.list_versions(project):
                node.client.add_version(project, egg.version, egg.data)
                log.info("deployed %s to %s", egg.version, node.url)
            node.jobs = node.client.list_jobs(project)
        except NodeError as exc:
            node.down_since = time.monotonic()
            errors.append(str(exc))
    if all(node.down_since is not None for node in nodes):
        raise CrawlError("no Scrapyd node can take the crawl: " + "; ".join(errors))


class _Loop:
    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        run_id: int,
        nodes: list[_Node],
        shards: list[_Shard],
        egg: Egg,
    ) -> None:
        self.settings = settings
        self.crawl = settings.crawl
        self.engine = engine
        self.run_id = run_id
        self.nodes = nodes
        self.shards = shards
        self.egg = egg

    def finished(self) -> bool:
        return all(s.status in DONE for s in self.shards)

    def poll(self) -> None:
        """List each node's jobs; give up a node silent for longer than node_timeout."""
        project = self.crawl.scrapyd_project
        for node in self.nodes:
            try:
                node.jobs = node.client.list_jobs(project)
            except NodeError as exc:
                node.jobs = None
                now = time.monotonic()
                node.down_since = node.down_since or now
                if now - node.down_since >= self.crawl.node_timeout.total_seconds():
                    for shard in self._running_on(node):
                        self.retry(shard, f"node {node.url} lost: {exc}")
                continue
            node.down_since = None
            node.scheduled = 0
            for job_id in node.abandoned & (node.jobs.pending | node.jobs.running):
                with contextlib.suppress(NodeError):
                    node.client.cancel(project, job_id)
            node.abandoned &= node.jobs.pending | node.jobs.running

    def reap(self) -> None:
        """Shards whose job ended: done if the spider finished them, else retried."""
        for shard in self.shards:
            if shard.status != "running" or shard.node is None or shard.node.jobs is None:
                continue
            jobs = shard.node.jobs
            if shard.job_id in jobs.pending | jobs.running:
                continue
            status, error = self._stored(shard)
            if status == "ok":
                shard.status = "ok"
                continue
            if shard.job_id in jobs.finished:
                log_url = jobs.logs.get(shard.job_id or "")
                why = (error or "the job ended without finishing its shard") + (
                    f" (log: {log_url})" if log_url else f" (node {shard.node.url})"
                )
            else:
                why = f"node {shard.node.url} lost job {shard.job_id}"
            self.retry(shard, why)

    def retry(self, shard: _Shard, why: str) -> None:
        """Back to pending for another node, or failed after max_attempts."""
        final = shard.attempts >= self.crawl.max_attempts
        status = "failed" if final else "pending"
        with session_scope(self.engine) as session:
            moved = session.execute(
                update(CrawlShard)
                .where(
                    CrawlShard.id == shard.id,
                    CrawlShard.job_id == shard.job_id,
                    CrawlShard.status == "running",
                )
                .values(
                    status=status,
                    error=why,
                    **({} if final else {"job_id": None}),
                    **({"finished_at": utcnow()} if final else {}),
                )
            ).rowcount  # type: ignore[attr-defined]
        if not moved:  # the spider closed the shard meanwhile
            shard.status, shard.error = self._stored(shard)
            return
        log.warning("crawl run %s shard %s: %s", self.run_id, shard.id, why)
        if shard.node is not None and shard.job_id and not final:
            shard.node.abandoned.add(shard.job_id)
            shard.avoid = shard.node.url
        shard.status, shard.error = status, why
        if not final:
            shard.node, shard.job_id = None, None

    def schedule(self) -> None:
        busy = {s.plan.competitor for s in self.shards if s.status == "running"}
        for shard in self.shards:
            if shard.status != "pending" or shard.plan.competitor in busy:
                continue
            node = self._pick_node(shard)
            if node is None:
                return
            if self._start(shard, node):
                busy.add(shard.plan.competitor)

    def abort(self, why: str) -> None:
        project = self.crawl.scrapyd_project
        for shard in self.shards:
            if shard.status in DONE:
                continue
            if shard.node is not None and shard.job_id:
                with contextlib.suppress(NodeError):
                    shard.node.client.cancel(project, shard.job_id)
            with session_scope(self.engine) as session:
                session.execute(
                    update(CrawlShard)
                    .where(CrawlShard.id == shard.id, CrawlShard.status.in_(("pending", "running")))
                    .values(status="aborted", error=why, finished_at=utcnow())
                )
            shard.status, shard.error = self._stored(shard)

    def _start(self, shard: _Shard, node: _Node) -> bool:
        job_id = uuid.uuid4().hex
        with session_scope(self.engine) as session:
            claimed = session.execute(
                update(CrawlShard)
                .where(
                    CrawlShard.id == shard.id,
                    CrawlShard.status == "pending",
                    ~self._competitor_busy(session, shard.plan.competitor),
                )
                .values(
                    status="running",
                    node=node.url,
                    job_id=job_id,
                    started_at=utcnow(),
                    attempts=CrawlShard.attempts + 1,
                )
            ).rowcount  # type: ignore[attr-defined]
        if not claimed:
            shard.status, shard.error = self._stored(shard)
            return False
        shard.status, shard.node, shard.job_id = "running", node, job_id
        shard.attempts += 1
        try:
            node.client.schedule(
                self.crawl.scrapyd_project, SPIDER, version=self.egg.version, job_id=job_id,
                args=self._spider_args(shard),
            )  # fmt: skip
        except NodeError as exc:
            node.down_since = node.down_since or time.monotonic()
            shard.attempts -= 1
            with session_scope(self.engine) as session:
                session.execute(
                    update(CrawlShard)
                    .where(CrawlShard.id == shard.id, CrawlShard.job_id == job_id)
                    .values(status="pending", job_id=None, node=None, error=str(exc),
                            attempts=CrawlShard.attempts - 1)
                )  # fmt: skip
            shard.status, shard.node, shard.job_id = "pending", None, None
            return False
        node.scheduled += 1
        log.info("crawl run %s shard %s (%s) -> %s job %s", self.run_id, shard.id,
                 shard.plan.competitor, node.url, job_id)  # fmt: skip
        return True

    def _spider_args(self, shard: _Shard) -> dict[str, str]:
        plan = shard.plan
        args = {
            "run_id": str(self.run_id),
            "shard": str(shard.id),
            "competitor": plan.competitor,
            "config": node_payload(self.settings, plan.competitor),
            "repricer_version": __version__,
        }
        if plan.sku_from is not None and plan.sku_to is not None:
            args.update(sku_from=plan.sku_from, sku_to=plan.sku_to)
        return args

    def _pick_node(self, shard: _Shard) -> _Node | None:
        per_node = self.crawl.jobs_per_node
        open_nodes = [n for n in self.nodes if n.free(per_node) > 0]
        if not open_nodes:
            return None
        preferred = [n for n in open_nodes if n.url != shard.avoid] or open_nodes
        return max(preferred, key=lambda n: n.free(per_node))

    def _competitor_busy(self, session: Session, competitor: str) -> Exists:
        """A shard of ``competitor`` running in any live run (one started by hand beside
        the scheduler's, say). On PostgreSQL the claim first takes a transaction lock per
        competitor, so two dispatchers cannot both see the site free."""
        if session.get_bind().dialect.name == "postgresql":
            session.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"crawl:{competitor}"}
            )
        other = aliased(CrawlShard)
        return exists().where(
            other.competitor == competitor,
            other.status == "running",
            other.started_at >= utcnow() - self.crawl.run_timeout,
            exists().where(CrawlRun.id == other.crawl_run_id, CrawlRun.status == "running"),
        )

    def _running_on(self, node: _Node) -> list[_Shard]:
        return [s for s in self.shards if s.status == "running" and s.node is node]

    def _stored(self, shard: _Shard) -> tuple[str, str | None]:
        with session_scope(self.engine) as session:
            row = session.execute(
                select(CrawlShard.status, CrawlShard.error).where(CrawlShard.id == shard.id)
            ).one()
        return str(row.status), row.error


def mark_unfinished_unhealthy(engine: Engine, run_id: int, shards: Sequence[_Shard]) -> None:
    """A competitor with a shard that did not finish is unhealthy in this run, so pricing
    does not trust a partial picture of its site."""
    names = {s.plan.competitor for s in shards}
    if not names:
        return
    with session_scope(engine) as session:
        ids = dict(
            session.execute(
                select(Competitor.name, Competitor.id).where(Competitor.name.in_(names))
            ).all()
        )
        for name in sorted(names):
            stats = session.execute(
                select(CrawlSiteStats).where(
                    CrawlSiteStats.crawl_run_id == run_id, CrawlSiteStats.competitor_id == ids[name]
                )
            ).scalar_one_or_none()
            if stats is None:
                session.add(CrawlSiteStats(crawl_run_id=run_id, competitor_id=ids[name],
                                           healthy=False))  # fmt: skip
            else:
                stats.healthy = False


def summarize(shards: Sequence[_Shard]) -> tuple[str, str | None]:
    unfinished = [s for s in shards if s.status != "ok"]
    if not unfinished:
        return "ok", None
    parts = []
    for s in unfinished:
        scope = f"{s.plan.competitor}" + (
            f" [{s.plan.sku_from}..{s.plan.sku_to}]" if s.plan.sku_from is not None else ""
        )
        parts.append(f"{scope}: {s.status} after {s.attempts} attempt(s): {s.error}")
    status = "aborted" if all(s.status == "aborted" for s in unfinished) else "failed"
    return status, f"{len(unfinished)} of {len(shards)} shard(s) did not finish: " + "; ".join(
        parts
    )
