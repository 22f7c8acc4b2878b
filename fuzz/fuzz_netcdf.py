"""atheris target: EMIT-like netCDF-4 radiance files, read through open_radiance.

Run: python fuzz/fuzz_netcdf.py -max_total_time=60 [corpus-dir]  (see docs/fuzzing.md)
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _target import main

if __name__ == "__main__":
    main("netcdf")
