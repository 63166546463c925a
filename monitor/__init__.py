"""shopmon: shop-wide integrity and reputation monitor."""

__version__ = "0.1.0"
