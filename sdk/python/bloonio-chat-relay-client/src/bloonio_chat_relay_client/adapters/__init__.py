"""Framework adapters: ``.fastapi`` and ``.django``."""
