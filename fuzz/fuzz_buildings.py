"""atheris target: buildings GeoJSON (pyogrio fast path and general reader).

Run: python fuzz/fuzz_buildings.py -max_total_time=60 [corpus-dir]  (see docs/fuzzing.md)
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _target import main

if __name__ == "__main__":
    main("buildings")
