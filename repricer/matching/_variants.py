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

PLATFORMS = {
    "mac": "mac", "macintosh": "mac", "osx": "mac", "win": "win", "windows": "win",
    "pc": "win", "xp": "win", "vista": "win", "linux": "linux", "unix": "linux",
}  # fmt: skip
"""Platform words, each to its platform: a Mac and a Windows edition are two products."""

EDITIONS = {
    "upgrade": "upgrade", "upg": "upgrade", "academic": "academic", "student": "academic",
    "teacher": "academic", "edu": "academic", "education": "academic",
    "educational": "academic", "oem": "oem", "professional": "pro", "pro": "pro",
    "standard": "standard", "std": "standard", "deluxe": "deluxe", "premium": "premium",
    "home": "home", "business": "business", "server": "server", "enterprise": "enterprise",
    "ultimate": "ultimate", "basic": "basic", "express": "express", "lite": "lite",
    "platinum": "platinum", "gold": "gold", "extended": "extended", "suite": "suite",
    "collectors": "collectors", "spanish": "language", "french": "language",
    "german": "language",
}  # fmt: skip
"""Edition words, each to its edition: an upgrade, an academic licence and a full box
differ in price while their titles differ in one word."""
