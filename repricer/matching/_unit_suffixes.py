"""Unit suffixes that make a number a quantity (``500gb``, ``18mm``), not a model code."""

UNIT_SUFFIXES = (
    "gb", "mb", "tb", "kb", "ghz", "mhz", "hz", "khz", "mm", "cm", "m", "km", "in", "inch",
    "ft", "oz", "lb", "lbs", "g", "kg", "mg", "ml", "l", "w", "kw", "v", "mah", "ah", "a",
    "p", "i", "x", "k", "mp", "pk", "pack", "pc", "pcs", "ct", "st", "nd", "rd", "th", "s",
    "rpm", "db", "bit", "ms", "fps", "gbps", "mbps", "yd", "qt", "gal", "min", "hr", "h",
    "d", "sq", "ppm", "dpi", "lm", "btu", "volt", "volts", "watt", "watts", "feet", "foot",
    "port", "ports", "way", "piece", "pieces", "year", "years", "cup", "cups", "sheets", "pages",
    "user", "users", "disc", "discs", "lens", "degree", "ohm", "bits", "core", "speed", "b",
)  # fmt: skip
