"""Words that tell editions and variants of one product line apart."""

VARIANT_WORDS = frozenset((
    "upgrade", "academic", "student", "teacher", "edu", "education", "professional", "pro",
    "standard", "std", "deluxe", "premium", "premier", "home", "business", "enterprise",
    "small", "basic", "ultimate", "plus", "lite", "express", "mac", "macintosh", "win",
    "windows", "pc", "family", "pack", "single", "user", "users", "license", "licence",
    "volume", "oem", "retail", "bundle", "kit", "trial", "server", "client", "workstation",
    "mini", "max", "xl", "xxl", "black", "white", "silver", "red", "blue", "green", "pink",
    "gray", "grey", "brown", "purple", "orange", "yellow", "gold", "refurbished", "renewed",
    "case", "cover", "charger", "adapter", "battery", "cable", "mount", "stand", "bag",
    "replacement", "accountant", "nonprofit", "non", "profit", "language", "spanish",
    "french", "german", "english", "international", "mobile", "online", "subscription",
    "year", "month", "cd", "dvd", "download", "box", "full", "version", "v", "l", "s", "m",
))  # fmt: skip
