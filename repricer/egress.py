"""Where repricer may connect: the loopback test and the crawl egress policy, in one place.

- :func:`is_loopback_host`: every 127/8 address, ``::1`` and ``localhost`` (plain http is
  allowed to these only, e.g. for a storefront on the same machine);
- :func:`on_site`: a crawl (and every redirect it follows) stays on the competitor's
  ``domain``, its subdomains and its configured ``aliases``;
- :func:`refused_address`: a crawl never reaches a loopback, private, link-local,
  multicast or reserved address (``169.254.169.254`` cloud metadata, ``10/8``, ...)
  unless the competitor is marked ``local = true`` in the config.

:func:`crawl_refusal` combines the two for the spiders; :func:`untargeted_refusal` applies
them to a request made for no listing (robots.txt, and every redirect it follows), which
must be on the site of one of the crawl's competitors. Names are resolved when the
request is made and the address the page actually came from is checked again after
the download, so a name that re-resolves to a private address in between is caught
before anything is stored.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Sequence
from typing import Protocol
from urllib.parse import SplitResult, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_ip(host: str) -> IPAddress | None:
    """``"127.0.0.30"`` / ``"[::1]"`` / ``"::1"`` -> an address; a name -> None."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def url_host(url: str) -> str:
    """The lower-case host of ``url`` without port, brackets or userinfo ("" if none)."""
    try:
        return (urlsplit(url.strip()).hostname or "").lower()
    except ValueError:
        return ""


def is_loopback_host(host: str) -> bool:
    """True for ``localhost``, any 127/8 address and ``::1`` (with or without brackets)."""
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    ip = parse_ip(host)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip is not None and ip.is_loopback


def is_public(ip: IPAddress) -> bool:
    """False for loopback, private, link-local, multicast, reserved and unspecified
    addresses (IPv4-mapped IPv6 judged by its IPv4 address)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local)


def on_site(url: str, domain: str, aliases: Iterable[str] = ()) -> bool:
    """``url`` is on ``domain`` (or a subdomain), or on an alias (or its subdomain).

    A domain or alias written with a port (``127.0.0.1:8080``) allows that port only.
    """
    try:
        parts = urlsplit(url.strip())
        host, port = (parts.hostname or "").lower().rstrip("."), parts.port
    except ValueError:
        return False
    if not host or parts.scheme not in ("http", "https"):
        return False
    for allowed in (domain, *aliases):
        text = allowed.lower().strip()
        try:
            site = urlsplit(text if "://" in text else f"//{text}")
            bare, want_port = (site.hostname or "").rstrip(".").removeprefix("www."), site.port
        except ValueError:
            continue
        if not bare or (want_port is not None and want_port != (port or _default_port(parts))):
            continue
        if host == bare or host.endswith("." + bare):
            return True
    return False


def crawl_refusal(url: str, domain: str, aliases: Iterable[str] = (), *, local: bool) -> str | None:
    """Why a crawl request to ``url`` is refused for this competitor, or None."""
    if not on_site(url, domain, aliases):
        return f"{url_host(url) or url} is not on the competitor's domain {domain} or its aliases"
    if local:
        return None
    parts = urlsplit(url)
    return refused_address(parts.hostname or "", parts.port or _default_port(parts))


class CrawlSite(Protocol):
    """What the policy reads of a competitor (``[[competitors]]`` settings)."""

    @property
    def domain(self) -> str: ...

    @property
    def aliases(self) -> Sequence[str]: ...

    @property
    def local(self) -> bool: ...


def untargeted_refusal(url: str, sites: Iterable[CrawlSite]) -> str | None:
    """Why a request made for no listing (robots.txt, or a redirect of it) is refused, or
    None: it must be on the site of one of the crawl's competitors ``sites`` and pass its
    address check (a non-local one's, when a local and a non-local share the site)."""
    matching = [s for s in sites if on_site(url, s.domain, s.aliases)]
    if not matching:
        return f"{url_host(url) or url} is not on the site of any competitor of this crawl"
    strictest = next((s for s in matching if not s.local), matching[0])
    return crawl_refusal(url, strictest.domain, strictest.aliases, local=strictest.local)


def _default_port(parts: SplitResult) -> int:
    return 443 if parts.scheme == "https" else 80


def refused_address(host: str, port: int | None = None) -> str | None:
    """Why connecting to ``host`` is refused for a competitor not marked local, or None.

    A name is resolved and every address it resolves to must be public; a name that
    does not resolve is left to the download to report.
    """
    ip = parse_ip(host)
    if ip is not None:
        addresses = [ip]
    else:
        try:
            infos = socket.getaddrinfo(host, port or 80, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError):
            return None
        addresses = [a for a in (parse_ip(str(info[4][0])) for info in infos) if a is not None]
    for address in addresses:
        if not is_public(address):
            return (
                f"{host} resolves to the non-public address {address}; "
                "mark the competitor local = true if that is intended"
            )
    return None


def response_refusal(
    url: str, ip: object, domain: str, aliases: Iterable[str] = (), *, local: bool
) -> str | None:
    """Why a downloaded page must not be used: it ended up off the competitor's site
    (a redirect inside the browser), or came from a non-public address ``ip``."""
    if not on_site(url, domain, aliases):
        return f"{url_host(url) or url} is not on the competitor's domain {domain} or its aliases"
    address = parse_ip(str(ip)) if ip is not None else None
    if not local and address is not None and not is_public(address):
        return f"the page came from the non-public address {address}"
    return None
