"""Programs that make the server do heavy work with their results (issue 19), each legal or within the threat model
(a program controls its own process and may write any result frame). Shared by test_stalls.py and bench/stall_bench.py."""

# (a) an ordinary program: 1,200 products that all equal x, so the compact trace shares one row (~0.7 MB) and the
# full form writes it out thousands of times (~13 MB)
BIG_FULL = ("import torch\nx = torch.linspace(0, 1, 256).requires_grad_()\n" + "y = x * 1\n" * 1200
            + "y.sum().backward()\n")

_WRITE = '''
for fd in range(3, 256):
    try:
        if stat.S_ISSOCK(os.fstat(fd).st_mode):
            view = memoryview(frame)
            while view:
                view = view[os.write(fd, view):]
    except OSError:
        pass
os._exit(0)
'''

# (b) a forged frame: one value row of 256 numbers written with 1,000 digits each (0.25 MB), referenced 1.7 million
# times from forward steps; expanded to the full form that is ~400 GB as sent, ~9 GB once the numbers are short
FORGED_ROW = '''import os, stat
num = "0." + "1" * 1000
row = '{"shape":[256],"values":[' + ",".join([num] * 256) + '],"min":0,"max":1,"mean":0.5,"sum":1}'
step = '{"op":"mul","inputs":[],"outputs":[],"node":null,"grad_enabled":true,"line":1,"values":[' + ",".join(["0"] * 1000) + ']}'
text = ('{"version":1,"status":"ok","error":null,"stdout":"","tensors":[],"nodes":[],"forward":[' + ",".join([step] * 1700)
        + '],"backward":[],"variables":{},"format":"compact","value_table":[' + row + ']}')
data = text.encode()
frame = len(data).to_bytes(4, "big") + data
''' + _WRITE

# (c) an ordinary program: 50 warnings, each 100 runs of 299 digits (the old check's regex `[0-9]{300}` scanned each
# run from every position: ~150 steps per byte)
DIGIT_WARNINGS = '''import warnings
for i in range(50):
    warnings.warn((str(i % 10) * 299 + " ") * 100)
'''

# (d) a forged frame of 30,000 tiny forward steps (~2.7 MB): many small objects to parse and validate
TINY_RECORDS = '''import os, stat
step = '{"op":"add","inputs":[],"outputs":[],"node":null,"grad_enabled":true,"line":1,"values":[]}'
text = ('{"version":1,"status":"ok","error":null,"stdout":"","tensors":[],"nodes":[],"forward":[' + ",".join([step] * 30000)
        + '],"backward":[],"variables":{},"format":"compact","value_table":[]}')
data = text.encode()
frame = len(data).to_bytes(4, "big") + data
''' + _WRITE

ATTACKS = {"big_full": BIG_FULL, "forged_row": FORGED_ROW, "digit_warnings": DIGIT_WARNINGS, "tiny_records": TINY_RECORDS}
