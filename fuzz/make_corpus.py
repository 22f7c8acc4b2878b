"""Write the seed corpus of every atheris target: ``fuzz/corpus/<parser>/*.seed``.

Run: python fuzz/make_corpus.py [output-dir]   (default: fuzz/corpus)
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _target import seed_corpus

if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "corpus"
    from tests.fuzz.samples import PARSERS

    for name in PARSERS:
        seed_corpus(name, out / name)
        print(f"{out / name}: {len(PARSERS[name].variants)} seed(s)")
