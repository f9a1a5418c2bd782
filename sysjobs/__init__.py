"""sysjobs: platform JavaScript in an embedded V8 sandbox, with a durable job engine."""

__version__ = "0.1.0"
