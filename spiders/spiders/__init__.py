"""Spiders of the repricer project (``scrapy crawl product``)."""
