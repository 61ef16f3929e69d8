"""icalpub: publish a YAML event registry as calendars and feeds."""

__version__ = "0.1.0"
