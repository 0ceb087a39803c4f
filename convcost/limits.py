"""Every bound convcost puts on its input, in one place.

Every input is untrusted (docs/threat-model.md): a number that multiplies work, a file, a
nesting depth. Each bound below is checked before the work it protects is done, and
exceeding it is a `ConvCostError` naming the bound. The bounds are far above any real
network, so that only mistakes and attacks meet them.
"""

from __future__ import annotations

from typing import Final

MAX_SPATIAL_DIMS: Final = 3
"""A shape has channels and at most three spatial sizes (1-D, 2-D and 3-D layers)."""

MAX_SIZE: Final = 10**18
"""The largest channel count, spatial size, feature count or hyper-parameter accepted.

Every size of every shape a network produces is checked against it too (upsampling chains
and concatenations grow sizes), so every count stays an exact integer of at most a few
hundred digits, far below Python's 4,300-digit limit on converting integers to text.
"""

MAX_LAYERS: Final = 100_000
"""Layers and blocks in one network, however it is described (a spec file, a preset's
parameters such as the pyramid's stages × convolutions per stage, a model file)."""

MAX_DEPTH: Final = 32
"""Blocks nested inside blocks."""

MAX_TEXT_BYTES: Final = 1 << 20
"""A spec file or a counting-profile file (1 MiB)."""

MAX_MODEL_BYTES: Final = 1 << 40
"""A model file (1 TiB): read through a memory map, its weights skipped, never loaded."""

MAX_BATCH: Final = 10**9
"""The batch size of memory and roofline figures."""

MAX_RULE_OPS: Final = 10**6
"""A counting profile's operations per unit, and its multiply-add factor."""

MAX_POINTS: Final = 100_000
"""The points of a sweep's grid (minutes of work at most); a grid beyond it is a typo (a
step of 1 for 0.01), refused from the sizes before any value is listed."""
