"""atheris target: the operators TOML file and its exclusion GeoJSON.

Run: python fuzz/fuzz_operators.py -max_total_time=60 [corpus-dir]  (see docs/fuzzing.md)
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _target import main

if __name__ == "__main__":
    main("operators")
