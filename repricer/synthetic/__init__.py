"""Synthetic competitor pages, sitemaps and supplier feeds.

The demo's shops and suppliers, the tests' loopback sites and the benchmarks' load all
come from here (served by :class:`repricer.loopback.LoopbackServer`), so a page or feed
format is written once: :mod:`~repricer.synthetic.pages` (product pages in each markup
the extractor reads), :mod:`~repricer.synthetic.feeds` (YML and cp1251 CSV price lists)
and :mod:`~repricer.synthetic.sitemap_shop` (a shop behind nested gzip sitemaps).
"""
