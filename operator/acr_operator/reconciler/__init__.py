"""The generic reconciler: kind descriptors, bodies, drift, conditions and the engine.

Nothing here imports kopf; the engine works on plain dicts through the
interfaces of `context`, so every path runs in unit tests without a cluster.
"""
