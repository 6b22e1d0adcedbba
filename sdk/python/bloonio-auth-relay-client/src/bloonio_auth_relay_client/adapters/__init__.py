"""Framework adapters: ``.fastapi`` and ``.django`` (each needs its extra)."""
