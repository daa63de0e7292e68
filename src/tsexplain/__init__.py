"""tsexplain: train deep time-series classifiers and see which steps and channels drove them."""
__version__ = "0.1.0"
