"""The repricer Scrapy project: competitor product pages -> observations.

``spiders.pages`` extracts (pure functions); ``spiders.spiders.product`` fetches;
``spiders.pipelines`` validates and stores.
"""
