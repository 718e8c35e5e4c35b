"""The decoder's accelerated path: the bulk framer (``vframe``), batch decoding (``batch``,
``fast``), the de-duplication keys (``dedup``) and the machinery that compiles their loops
ahead of time or just in time (``kernels``, ``build``).

Only :mod:`shiptrack.decode` uses it (tests/test_layers.py checks that): the rest of
shiptrack sees the decoder's contract, whose results are the same with or without it.
"""
