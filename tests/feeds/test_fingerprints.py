"""The no-change fast path: an identical file is skipped whole, unchanged offers are
skipped by fingerprint, and nothing that must be checked or written is ever skipped.
Every case runs on SQLite and PostgreSQL (the stored fingerprints are read through the
driver's own cursor)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select, update

from repricer.catalog import import_catalog
from repricer.config import Settings, SupplierSettings
from repricer.db.models import Product, SupplierOffer, utcnow
from repricer.feeds import SyncResult, sync_feed
from repricer.feeds.holds import accept_held
from repricer.stock import sync_stock_feed
from repricer.synthetic.feeds import FeedOffer, yml_feed
from tests.feeds.conftest import stored_offers

N = 40
SETTINGS = Settings()


def offers(**costs: int) -> list[FeedOffer]:
    """``N`` offers S-00..; ``costs`` overrides some (``S_03=150000``)."""
    listed = []
    for i in range(N):
        sku = f"S-{i:02d}"
        cost = costs.get(sku.replace("-", "_"), 10000 + i * 100)
        listed.append(FeedOffer(sku, cost=cost, stock=5, name=f"Товар {i}", available=True))
    return listed


def write(path: Path, listed: list[FeedOffer], date: str = "2026-11-23 10:00") -> None:
    path.write_bytes(yml_feed(listed, shop="Тест", date=date))


def add_products(engine: Engine, *skus: str) -> None:
    now = utcnow()
    rows = [{"sku": s, "tags": [], "created_at": now, "updated_at": now} for s in skus]
    with engine.begin() as conn:
        conn.execute(insert(Product), rows)


@pytest.fixture
def feed(any_engine: Engine, tmp_path: Path) -> tuple[Engine, SupplierSettings, Path]:
    add_products(any_engine, *(f"S-{i:02d}" for i in range(N)))
    path = tmp_path / "feed.yml"
    write(path, offers())
    supplier = SupplierSettings(name="acme", path=path, format="yml")
    first = sync_feed(SETTINGS, any_engine, supplier)
    assert (first.status, first.changed, first.skipped_same) == ("ok", N, 0)
    return any_engine, supplier, path


def sync(engine: Engine, supplier: SupplierSettings, **kw: Any) -> SyncResult:
    return sync_feed(SETTINGS, engine, supplier, **kw)


def prints(engine: Engine) -> dict[str, int | None]:
    with engine.connect() as conn:
        rows = conn.execute(select(SupplierOffer.key, SupplierOffer.feed_fp))
        return {key: fp for key, fp in rows}


def test_identical_file_is_skipped_and_nothing_written(
    feed: tuple[Engine, SupplierSettings, Path],
) -> None:
    engine, supplier, _path = feed
    before = stored_offers(engine, "acme")
    again = sync(engine, supplier)
    assert (again.status, again.seen, again.changed) == ("unchanged", N, 0)
    assert stored_offers(engine, "acme") == before  # updated_at and seen_at included
    assert all(fp is not None for fp in prints(engine).values())


def test_one_changed_offer_among_many_is_the_only_one_read(
    feed: tuple[Engine, SupplierSettings, Path],
) -> None:
    engine, supplier, path = feed
    before = stored_offers(engine, "acme")
    write(path, offers(S_07=10750), date="2026-11-23 11:00")  # re-exported: the file differs
    result = sync(engine, supplier)
    assert (result.status, result.seen, result.changed, result.missing) == ("ok", N, 1, 0)
    assert result.skipped_same == N - 1
    after = stored_offers(engine, "acme")
    assert after["S-07"]["cost"] == 10750
    assert {k: v for k, v in after.items() if k != "S-07"} == {
        k: v for k, v in before.items() if k != "S-07"
    }
    assert after["S-07"]["feed_fp"] not in (None, before["S-07"]["feed_fp"])


def test_held_cost_is_never_skipped_until_applied_whole(
    feed: tuple[Engine, SupplierSettings, Path],
) -> None:
    engine, supplier, path = feed
    write(path, offers(S_03=99000), date="v2")  # x9: held, the stored cost stays
    held = sync(engine, supplier)
    assert (held.status, held.held) == ("ok", 1)
    row = stored_offers(engine, "acme")["S-03"]
    assert (row["cost"], row["held_cost"], row["feed_fp"]) == (10300, 99000, None)
    held_at = row["held_at"]

    write(path, offers(S_03=99000), date="v3")  # the same move again: held again, not skipped
    again = sync(engine, supplier)
    assert (again.held, again.skipped_same, again.changed) == (1, N - 1, 0)
    assert stored_offers(engine, "acme")["S-03"]["held_at"] == held_at  # first held, kept

    write(path, offers(S_03=10400), date="v4")  # back within the bound: applied, hold cleared
    released = sync(engine, supplier)
    row = stored_offers(engine, "acme")["S-03"]
    assert (released.changed, row["cost"], row["held_cost"]) == (1, 10400, None)
    assert row["feed_fp"] is not None

    write(path, offers(S_03=99000), date="v5")  # the held value again: held again, not skipped
    assert sync(engine, supplier).held == 1
    assert accept_held(engine, "acme", ["S-03"]) == 1
    row = stored_offers(engine, "acme")["S-03"]
    assert (row["cost"], row["held_cost"], row["feed_fp"]) == (99000, None, None)
    # The file that was held, now accepted: nothing to change, and the item is
    # fingerprinted again (a row another writer touched is read, not skipped).
    write(path, offers(S_03=99000), date="v6")
    after = sync(engine, supplier)
    assert (after.status, after.changed, after.held, after.skipped_same) == ("ok", 0, 0, N - 1)
    assert stored_offers(engine, "acme")["S-03"]["feed_fp"] is not None


def test_a_settings_change_makes_every_offer_read_again(
    feed: tuple[Engine, SupplierSettings, Path],
) -> None:
    engine, supplier, path = feed
    write(path, offers(), date="later")
    assert sync(engine, supplier).skipped_same == N
    changed = supplier.model_copy(update={"hold_cost_ratio": 3})
    write(path, offers(), date="later still")
    result = sync(engine, changed)
    assert (result.status, result.skipped_same, result.changed) == ("ok", 0, 0)
    # The identical file is not skipped whole either under other settings.
    other = changed.model_copy(update={"currency": "RUB", "key": "vendorCode"})
    assert sync(engine, other).status != "unchanged"


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda b: b[: b.rindex(b"</offer>") + 8], id="cut-after-an-offer"),
        pytest.param(lambda b: b[: len(b) // 2], id="cut-mid-offer"),
        pytest.param(
            lambda b: b.replace(b"<price>110.00</price>", b"<price>110.005</price>"),
            id="ambiguous-amount-in-a-changed-offer",
        ),
        pytest.param(
            lambda b: b.replace(b"</offers>", b"<!-- --><offer id='X'><price>1</offers>"),
            id="broken-xml-after-unchanged-offers",
        ),
    ],
)
def test_a_broken_file_after_a_fingerprinted_sync_changes_nothing(
    feed: tuple[Engine, SupplierSettings, Path], damage: Any
) -> None:
    engine, supplier, path = feed
    before = stored_offers(engine, "acme")
    path.write_bytes(damage(path.read_bytes()))
    result = sync(engine, supplier)
    assert result.status == "rejected", result
    assert "feed.yml" in (result.error or "")
    assert stored_offers(engine, "acme") == before


def test_ambiguous_amount_names_offer(feed: tuple[Engine, SupplierSettings, Path]) -> None:
    engine, supplier, path = feed
    path.write_bytes(path.read_bytes().replace(b"<price>110.00<", b"<price>110.005<"))
    result = sync(engine, supplier)
    assert result.status == "rejected" and "offer S-10" in (result.error or "")


def test_an_item_missing_then_back_as_it_was_is_available_again(
    feed: tuple[Engine, SupplierSettings, Path],
) -> None:
    engine, supplier, path = feed
    listed = offers()
    write(path, [o for o in listed if o.id != "S-05"], date="without")
    assert sync(engine, supplier).missing == 1
    assert stored_offers(engine, "acme")["S-05"]["available"] is False
    write(path, listed, date="with")
    back = sync(engine, supplier)
    assert (back.changed, back.skipped_same) == (1, N - 1)
    assert stored_offers(engine, "acme")["S-05"]["available"] is True


def test_stock_written_by_a_stock_sync_is_not_skipped(
    feed: tuple[Engine, SupplierSettings, Path], tmp_path: Path
) -> None:
    engine, supplier, _path = feed
    stock = tmp_path / "stock.yml"
    write(stock, [FeedOffer("S-02", stock=0, available=False)])
    with_stock = supplier.model_copy(update={"stock_path": stock})
    stocked = sync_stock_feed(SETTINGS, engine, with_stock)
    assert stocked.status == "ok", stocked
    row = stored_offers(engine, "acme")["S-02"]
    assert (row["stock_qty"], row["available"], row["feed_fp"]) == (0, False, None)
    # The same file again: not skipped whole (an offer was written since), and the
    # full feed's values come back for the item the stock sync changed.
    result = sync(engine, with_stock)
    assert (result.status, result.changed, result.skipped_same) == ("ok", 1, N - 1)
    assert stored_offers(engine, "acme")["S-02"]["stock_qty"] == 5


def test_a_key_written_twice_keeps_the_last_row(
    feed: tuple[Engine, SupplierSettings, Path],
) -> None:
    engine, supplier, path = feed
    listed = offers()
    changed = FeedOffer("S-04", cost=12345, stock=5, name="Товар 4", available=True)
    write(path, [*listed, changed], date="twice")  # the unchanged S-04 first, then a new one
    result = sync(engine, supplier)
    assert (result.status, result.duplicates) == ("ok", 1)
    assert stored_offers(engine, "acme")["S-04"]["cost"] == 12345
    write(path, [changed, *listed], date="twice again")  # now the unchanged one is last
    sync(engine, supplier)
    assert stored_offers(engine, "acme")["S-04"]["cost"] == 10400


def test_a_product_imported_later_matches_a_skipped_offer(
    any_engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "feed.yml"
    write(path, offers())
    supplier = SupplierSettings(name="acme", path=path, format="yml")
    assert sync(any_engine, supplier).unmapped == N
    add_products(any_engine, "S-09")
    result = sync(any_engine, supplier)  # the same file: not skipped, S-09 has a product now
    assert (result.status, result.changed, result.unmapped) == ("ok", 1, N - 1)
    assert stored_offers(any_engine, "acme")["S-09"]["product_id"] is not None
    assert sync(any_engine, supplier).status == "unchanged"


def test_a_file_not_cut_by_bytes_is_still_read_by_rows(any_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "feed.yml"
    body = yml_feed(offers(), shop="Тест", date="a").replace(
        b"</offer>\n<offer", b"</offer>\n<!-- next -->\n<offer", 3
    )
    path.write_bytes(body)
    supplier = SupplierSettings(name="acme", path=path, format="yml")
    assert sync(any_engine, supplier).changed == N
    path.write_bytes(body.replace(b'date="a"', b'date="b"'))
    result = sync(any_engine, supplier)
    assert (result.status, result.changed, result.skipped_same) == ("ok", 0, N)


def test_rows_written_since_make_the_identical_file_read(
    feed: tuple[Engine, SupplierSettings, Path],
) -> None:
    engine, supplier, _path = feed
    with engine.begin() as conn:  # any other writer bumps updated_at and clears the print
        conn.execute(
            update(SupplierOffer)
            .where(SupplierOffer.key == "S-01")
            .values(cost=9000, feed_fp=None, updated_at=utcnow())
        )
    result = sync(engine, supplier)
    assert (result.status, result.changed) == ("ok", 1)
    assert stored_offers(engine, "acme")["S-01"]["cost"] == 10100


def test_a_barcode_moved_in_the_catalog_relinks_a_skipped_offer(
    any_engine: Engine, tmp_path: Path
) -> None:
    first, second = "4006381333931", "5901234123457"
    catalog = tmp_path / "catalog.csv"
    catalog.write_text(f"sku,title,gtin\nA,Чайник,{first}\nB,Утюг,{second}\n", encoding="utf-8")
    import_catalog(SETTINGS, any_engine, catalog)
    path = tmp_path / "feed.yml"
    write(path, [FeedOffer(code, cost=10000, barcode=code) for code in (first, second)])
    supplier = SupplierSettings(name="acme", path=path, format="yml", key="barcode")
    assert sync(any_engine, supplier).status == "ok"
    linked = {key: row["product_id"] for key, row in stored_offers(any_engine, "acme").items()}
    # the barcodes were entered the wrong way round; the catalog now swaps them
    catalog.write_text(f"sku,title,gtin\nA,Чайник,{second}\nB,Утюг,{first}\n", encoding="utf-8")
    import_catalog(SETTINGS, any_engine, catalog)
    result = sync(any_engine, supplier)  # the same file: its offers must follow the barcodes
    assert (result.status, result.changed) == ("ok", 2)
    relinked = {key: row["product_id"] for key, row in stored_offers(any_engine, "acme").items()}
    assert relinked == {first: linked[second], second: linked[first]}
    assert sync(any_engine, supplier).status == "unchanged"
