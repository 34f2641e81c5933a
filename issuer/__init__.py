"""Open Badges 3.0 credential issuer."""

__version__ = "0.1.0"
