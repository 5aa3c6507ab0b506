"""futsim's simulator: everything that makes the world fake.

The bot (``bot/``) runs unchanged on top of it. See ``../shared/DESIGN.md`` for the shape;
``sim.runtime`` is the virtual-time runtime everything else runs on.
"""
