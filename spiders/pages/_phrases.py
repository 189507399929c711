"""Data tables for page extraction: schema.org availability values, stock phrases,
captcha markers and the class-name words the text heuristics look for.

Kept apart from the logic in :mod:`spiders.pages` so the tables can grow without
touching code. Phrases are lower-case; page text is lower-cased and its spaces
collapsed before matching.
"""

from __future__ import annotations

import re

IN_STOCK = "in_stock"
OUT_OF_STOCK = "out_of_stock"
UNKNOWN = "unknown"

# schema.org ItemAvailability (last path segment, lower-case) and OpenGraph
# product:availability values.
SCHEMA_AVAILABILITY: dict[str, str] = {
    "instock": IN_STOCK,
    "in stock": IN_STOCK,
    "in_stock": IN_STOCK,
    "limitedavailability": IN_STOCK,
    "onlineonly": IN_STOCK,
    "instoreonly": IN_STOCK,
    "available": IN_STOCK,
    "available for order": IN_STOCK,
    "outofstock": OUT_OF_STOCK,
    "out of stock": OUT_OF_STOCK,
    "out_of_stock": OUT_OF_STOCK,
    "oos": OUT_OF_STOCK,
    "soldout": OUT_OF_STOCK,
    "discontinued": OUT_OF_STOCK,
    # Ordered on demand: cannot be bought now, so not a competing offer today.
    "preorder": OUT_OF_STOCK,
    "presale": OUT_OF_STOCK,
    "backorder": OUT_OF_STOCK,
    "madetoorder": OUT_OF_STOCK,
    "pending": OUT_OF_STOCK,
    # classified ads
    "sold": OUT_OF_STOCK,
    "not sold": IN_STOCK,
    "for sale": IN_STOCK,
}

# Visible stock phrases, lower-case, in the languages of the shops we watch (ru, uk, kk,
# en, de, fr, it, es, pt, pl, cs, hr, sl, lv, lt, et, ro, bg, hu, nl, sv, fi, zh-TW,
# ja). Out-of-stock phrases are checked first: «нет в наличии» holds «в наличии»,
# "unavailable" holds "available", "nicht lieferbar" holds "lieferbar".
OUT_OF_STOCK_PHRASES: tuple[str, ...] = (
    # ru / uk / kk
    "нет в наличии", "нет на складе", "отсутствует", "под заказ", "предзаказ",
    "ожидается поступление", "ожидается", "снят с производства", "товар закончился",
    "распродано", "сообщить о поступлении", "нет в продаже", "немає в наявності",
    "немає на складі", "закінчився", "під замовлення", "очікується", "қоймада жоқ",
    "сатылымда жоқ",
    # en
    "out of stock", "sold out", "currently unavailable", "unavailable", "not available",
    "no longer available", "discontinued", "pre-order", "preorder", "backorder",
    "notify me when available", "email me when available",
    # de / fr / it / es / pt
    "nicht verfügbar", "nicht auf lager", "ausverkauft", "nicht lieferbar", "vergriffen",
    "rupture de stock", "épuisé", "indisponible", "non disponible", "esaurito",
    "non disponibile", "agotado", "sin stock", "no disponible", "fuera de stock",
    "esgotado", "indisponível", "sem stock", "sem estoque", "fora de stock",
    # pl / cs / hr / sl / lv / lt / et
    "niedostępny", "brak w magazynie", "brak towaru", "wyprzedany", "vyprodáno",
    "není skladem", "nedostupné", "nije dostupno", "nema na zalihi", "nije na stanju",
    "rasprodano", "ni na zalogi", "razprodano", "nav noliktavā", "nav pieejams",
    "izpārdots", "nėra sandėlyje", "išparduota", "ei ole laos", "pole laos",
    "laos ei ole", "läbi müüdud", "otsas",
    # ro / bg / hu / nl / sv / fi
    "stoc epuizat", "indisponibil", "nu este în stoc", "nu este in stoc", "няма наличност",
    "изчерпан", "не е наличен", "nincs készleten", "nincs raktáron", "elfogyott",
    "nem elérhető", "uitverkocht", "niet op voorraad", "niet beschikbaar", "slutsåld",
    "ej i lager", "inte i lager", "tillfälligt slut", "slut i lager", "loppuunmyyty",
    "ei varastossa", "tilapäisesti loppu", "ei saatavilla",
    # zh-TW / ja
    "售完", "已售完", "缺貨", "補貨中", "無庫存", "在庫切れ", "売り切れ", "品切れ", "在庫なし",
)  # fmt: skip
IN_STOCK_PHRASES: tuple[str, ...] = (
    "в наличии", "есть в наличии", "на складе", "в наявності", "є в наявності",
    "қоймада бар", "in stock", "available", "ready to ship", "auf lager",
    "sofort lieferbar", "lieferbar", "verfügbar", "vorrätig", "en stock", "disponible",
    "disponibile", "disponibilità immediata", "in magazzino", "em stock", "em estoque",
    "disponível", "dostępny", "w magazynie", "na stanie", "skladem", "na skladě",
    "na zalihi", "na stanju", "dostupno", "na zalogi", "noliktavā", "pieejams",
    "yra sandėlyje", "laos", "saadaval", "în stoc", "in stoc", "disponibil",
    "в наличност", "наличен", "készleten", "raktáron", "op voorraad", "leverbaar",
    "i lager", "varastossa", "saatavilla", "有現貨", "現貨", "有庫存", "在庫あり",
)  # fmt: skip

# The buy control of a product page, by its visible text (lower-case) and by its
# class / id / name tokens: the main product lives around it.
BUY_PHRASES: tuple[str, ...] = (
    "add to cart", "add to basket", "add to bag", "add to trolley", "buy now",
    "buy it now", "в корзину", "купить", "додати в кошик", "купити", "у кошик",
    "себетке", "in den warenkorb", "in den einkaufswagen", "jetzt kaufen",
    "ajouter au panier", "aggiungi al carrello", "añadir al carrito", "agregar al carro",
    "agregar al carrito", "añadir a la cesta", "adicionar ao carrinho",
    "adicionar ao cesto", "comprar", "do koszyka", "kup teraz", "do košíku", "koupit",
    "u košaricu", "kupi", "v košarico", "pievienot grozam", "į krepšelį", "ostukorvi",
    "adaugă în coș", "adauga in cos", "добави в количката", "kosárba",
    "in winkelwagen", "in winkelmand", "lägg i varukorgen", "köp nu",
    "lisää ostoskoriin", "加入購物車", "直接購買", "立即購買", "カートに入れる",
)  # fmt: skip


def any_phrase(phrases: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern finding any of ``phrases`` in a text (one scan instead of one per
    phrase)."""
    return re.compile("|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True)))


BUY_PHRASE = any_phrase(BUY_PHRASES)
IN_STOCK_PHRASE = any_phrase(IN_STOCK_PHRASES)
OUT_OF_STOCK_PHRASE = any_phrase(OUT_OF_STOCK_PHRASES)
BUY_CLASS = re.compile(
    r"add[-_]?to[-_]?(?:cart|basket|bag|trolley)|buy[-_]?(?:button|now|btn)|btn[-_]buy"
    r"|to[-_]?cart|cart[-_]?button|addtocart|buybox|buy[-_]box",
    re.I,
)

# A page saying one of these (with no product data) is a block / challenge page.
CAPTCHA_MARKERS: tuple[str, ...] = (
    "captcha",
    "are you a robot",
    "are you human",
    "verify you are human",
    "checking your browser",
    "access denied",
    "cf-challenge",
    "challenge-platform",
    "подтвердите, что вы не робот",
    "вы не робот",
    "доступ ограничен",
    "доступ запрещен",
    "доступ запрещён",
)


# Class / id words marking a price element, and words disqualifying it. Words must
# stand alone inside a class token (``price-old``, ``old_price``), so ``holder`` is not
# ``old`` and ``fullwidth`` is not ``full``.
class WordSet:
    """Words that must stand alone in a class/id value (``price-old``, ``old_price``
    hold ``old``; ``holder`` does not). Matching splits the value into letter runs
    and looks each run, and each hyphenated pair of runs, up in a set: one pass,
    however many words the set holds."""

    _SPLIT = re.compile(r"[^a-z]+")

    def __init__(self, *words: str, extra: tuple[str, ...] = ()) -> None:
        self.words = frozenset(words)
        self.extra = extra  # substrings that count anywhere (``oldprice`` in one run)
        self._answers: dict[str, str | None] = {}  # pages repeat their class names

    def search(self, text: str) -> str | None:
        """The first word of ``text`` in the set, or None."""
        if not text:
            return None
        answer = self._answers.get(text, "")
        if answer == "":
            if len(self._answers) > 20_000:
                self._answers.clear()
            answer = self._answers[text] = self._search(text)
        return answer

    def _search(self, text: str) -> str | None:
        text = text.lower()
        hit = next((e for e in self.extra if e in text), None)
        if hit:
            return hit
        runs = [r for r in self._SPLIT.split(text) if r]
        for i, run in enumerate(runs):
            if run in self.words:
                return run
            if i + 1 < len(runs) and f"{run}-{runs[i + 1]}" in self.words:
                return f"{run}-{runs[i + 1]}"
        return None


PRICE_CLASS = re.compile(r"price|cost|cena|tsena|preis|prix|prezzo|precio", re.I)
OLD_PRICE_CLASS = WordSet(
    "old",
    "was",
    "before",
    "regular",
    "compare",
    "compare-at",
    "strike",
    "strikethrough",
    "crossed",
    "original",
    "prev",
    "previous",
    "rrp",
    "msrp",
    "list",
    "base",
    "full",
    extra=("oldprice", "priceold", "wasprice", "pricewas", "price-was", "crossed", "through"),
)
NOT_PRICE_CLASS = WordSet(
    "unit",
    "units",
    "per",
    "month",
    "monthly",
    "credit",
    "installment",
    "instalment",
    "loan",
    "bonus",
    "bonuses",
    "cashback",
    "economy",
    "save",
    "saving",
    "savings",
    "discount",
    "percent",
    "delivery",
    "shipping",
    "filter",
    "range",
    "slider",
    "label",
    "title",
    "caption",
    "total",
    "sum",
    "tax",
    "from-to",
    "min",
    "max",
    "per-unit",
    "unit-price",
    "kg",
    "subscription",
    "net",
    "netto",
    "excl",
    "exvat",
    "ex-vat",
)
# A price quoted without VAT beside the same price with it: the shopper pays the gross.
EX_VAT = re.compile(
    r"excl\.?\s*(?:vat|tax|gst)|\bex\.?\s+vat|without\s+(?:vat|tax)|before\s+tax|\bnet\b|netto"
    r"|zzgl|ohne\s+mwst|exkl|hors\s+tax|\bht\b|sans\s+tva|iva\s+esclusa|senza\s+iva|sin\s+iva"
    r"|sem\s+iva|sem\s+impostos|без\s+ндс|без\s+пдв|без\s+ддс|bez\s+(?:dph|vat|pdv|ddv|pvn)"
    r"|excl\.?\s*btw|exkl\.?\s*moms|alv\s*0|veroton|fără\s+tva|áfa\s+nélkül|nettó|未稅|税抜|税別",
    re.I,
)
# Containers whose prices belong to other products or to page furniture.
UNRELATED_CONTAINER = WordSet(
    "related",
    "recommend",
    "recommended",
    "recommendations",
    "similar",
    "also",
    "upsell",
    "upsells",
    "up-sell",
    "cross-sell",
    "crosssell",
    "accessories",
    "accessory",
    "viewed",
    "recently",
    "bundle",
    "bundles",
    "carousel",
    "swiper",
    "slick",
    "owl-carousel",
    "compare",
    "minicart",
    "mini-cart",
    "header",
    "footer",
    "menu",
    "nav",
    "navbar",
    "sidebar",
    "banner",
    "popup",
    "modal",
    "complect",
    "together",
    "analogs",
    "analog",
    "alternatives",
    "others",
    "catalog-item",
    "product-list",
    "products-list",
    "product-grid",
    "listing",
    "breadcrumbs",
    "breadcrumb",
    "comparison",
    "sponsored",
    "suggest",
    "suggestions",
    "bought",
    "seller",
    "sellers",
    "more-from",
    "xsell",
    "reco",
    "recs",
    "recos",
    "p13n",
    "cart-drawer",
    "wishlist",
    # class words and aria labels of such blocks in other languages
    "pohozhie",
    "rekomend",
    "similares",
    "relacionados",
    "simili",
    "podobne",
    "aehnliche",
    "empfehlungen",
    "gerelateerd",
    "liknande",
    "samankaltaiset",
)
# Blocks of site navigation: a heading inside one names a menu section, not the product.
NAVIGATION_CLASS = WordSet(
    "menu", "menus", "nav", "navbar", "navigation", "megamenu", "submenu", "breadcrumb",
    "breadcrumbs",
)  # fmt: skip
UNRELATED_TAGS = frozenset({"header", "footer", "nav", "aside", "script", "style", "noscript"})
STOCK_CLASS = re.compile(r"stock|avail|nalich|nali4|presence|nalichie|instock|in-stock", re.I)

# A price quoted per unit of measure or per period is not the item's price.
PER_UNIT = re.compile(
    r"(/|\bза\s+1?\s*|\bper\s+|\bpro\s+|\ba\s+)\s*(кг|г|гр|л|мл|м|м2|м²|м\.|шт|уп|упак|пог|"
    r"kg|g|gr|l|ml|m|m2|m²|pcs|pc|piece|unit|item|lb|oz|ft|sq|мес|month|mo|год|year|day|день)\b"
    r"|\d\s*(шт|pcs|pc)\b\s*(по|x|×|\*)"
    r"|\b(x|×)\s*\d+\s*(мес|month)",
    re.I,
)
