"""The chaos suite (``make chaos``, ``python -m chaos``): the real stack under a bounded
mixed load and faults, every expected effect counted at the end (lost, duplicated,
early, late). See docs/reliability.md."""
