"""atheris target: ENVI images: the header or the binary data file, read through open_radiance.

Run: python fuzz/fuzz_envi_radiance.py -max_total_time=60 [corpus-dir]  (see docs/fuzzing.md)
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _target import main

if __name__ == "__main__":
    main("envi_radiance")
