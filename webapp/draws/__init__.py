"""Annual plans, batches and the publicly verifiable draw (SSJ-DRAW-v1, shared/DRAW.md).

Only the pure algorithm exists so far (``algorithm.py``); plans, the ceremony UI and the public
pages come with the rest of issue #3.
"""
