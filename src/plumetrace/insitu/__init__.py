"""In-situ source estimation: dispersion models, Bayesian source-term estimation, planning.

Pure kernels: arrays and small frozen dataclasses in and out, no files, no printing.
"""
