"""Write frontend/tests/fixtures/qr/vectors.json: QR symbols made by segno (an independent encoder) for qr.test.js.

Run once by hand with segno importable (e.g. `pip install --target /tmp/qr segno==1.6.6`, PYTHONPATH=/tmp/qr);
the fixture is committed, so the tests need neither segno nor the network.
"""
import json
from pathlib import Path

import segno
from segno import encoder

# segno 1.6.6 pads a byte-aligned bit stream with a whole extra 0x00 codeword (`8 - len % 8` zero bits when
# len % 8 == 0); the symbol still reads, but the spec (7.4.10) adds no bits there. Fix that, so the vectors
# are the spec's exact symbols.
encoder.write_padding_bits = lambda buff, version, length: buff.extend([0] * ((8 - length % 8) % 8))

CASES = [
    ("HELLO", 1, 0), ("https://gradtrace.example/c/K7QX2M", None, None), ("http://127.0.0.1:8000/c/ABC234", None, 3),
    ("é ✓ gradient", 2, 5), ("x" * 60, None, 6), ("https://lecture-hall.university.example.edu/c/" + "Z" * 40, None, 1),
    ("a" * 150, None, 2), ("0123456789" * 20, None, 7), ("b" * 211, None, 4),
]
out = []
for text, version, mask in CASES:
    q = segno.make_qr(text, error="m", boost_error=False, mode="byte", version=version, mask=mask, encoding="utf-8")
    rows = ["".join("1" if v else "0" for v in row) for row in q.matrix]
    out.append({"text": text, "version": q.version, "mask": q.mask, "rows": rows, "forced_mask": mask is not None})
path = Path(__file__).resolve().parents[1] / "fixtures" / "qr" / "vectors.json"
path.write_text(json.dumps(out, indent=0) + "\n")
print(path, len(out))
