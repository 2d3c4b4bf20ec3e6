"""Change stamps: counters that tell a cached answer it is out of date.

A reader takes the stamps of what it shows *before* it reads the data, and
keys its cache entry by them; a writer bumps the stamps once its transaction
has committed (:func:`stamps.counters.bump_on_commit`). See
:mod:`stamps.counters` for why that order is safe.
"""
