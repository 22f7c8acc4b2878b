"""atheris target: CSV tracks (plain-decimal, numpy and careful parsers).

Run: python fuzz/fuzz_track_csv.py -max_total_time=60 [corpus-dir]  (see docs/fuzzing.md)
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _target import main

if __name__ == "__main__":
    main("track_csv")
