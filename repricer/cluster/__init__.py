"""Crawling on Scrapyd nodes that share one PostgreSQL database.

With ``[crawl] backend = "scrapyd"``, :func:`repricer.crawl.run_crawl` deploys the
spiders project to every node in ``scrapyd_nodes`` (:mod:`.egg`), splits the crawl into
shards (:mod:`.shards`: one per competitor, a large competitor by SKU range), and
dispatches them through Scrapyd's JSON API (:mod:`.client`), following them until every
shard finished, failed or the run's deadline passed (:mod:`.dispatch`). What a node
needs, and how it gets the settings the spiders read, is in :mod:`.node`.
"""
