"""Run mag1c 1.2.0's command line (``mag1c.mag1c:main``) with NumPy's ``np.int`` restored.

mag1c 1.2.0 formats its progress with ``np.int``, which NumPy 1.24 removed, so
``python -m mag1c`` fails on current NumPy. This wrapper restores the alias and then calls
the unmodified ``main()`` with the same arguments::

    python benchmarks/_mag1c_cli.py RADIANCE_DATA --spec SPEC.txt --out OUT [mag1c options]
"""

import warnings

import numpy as np

if __name__ == "__main__":
    setattr(np, "int", int)  # noqa: B010  (ruff would rewrite `np.int = int`)
    warnings.simplefilter("ignore")  # torch.cholesky / numpy.core deprecation noise
    import mag1c.mag1c as m

    m.main()
