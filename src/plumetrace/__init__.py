"""plumetrace: aerial chemical-emission surveillance.

From authorized flights and imaging-spectrometer or in-situ readings to candidate sites,
analyst review and releasable leads for partner authorities. Non-lethal by design.
"""

from plumetrace.errors import PlumetraceError

__version__ = "0.1.0"
__all__ = ["PlumetraceError", "__version__"]
