# npytool.py - Write test arrays and check keops-run results, standard library only.
# SPDX-License-Identifier: MIT
"""Usage:
  npytool.py random FILE DTYPE ROWS COLS SEED   write a uniform [0, 1) array
  npytool.py gauss X Y B OUT                     check OUT = sum_j exp(-|x_i-y_j|^2) b_j
  npytool.py argmin X Y OUT                      check OUT = argmin_j |x_i-y_j|^2
  npytool.py header FILE DTYPE ROWS COLS          write a header of that shape and
                                                 12 bytes of data (a lying file)
"""
import math
import random
import struct
import sys

FORMATS = {"float32": ("<f4", "f", 4), "float64": ("<f8", "d", 8), "int64": ("<i8", "q", 8)}


def write(path, dtype, rows, cols, values):
    """An array of the shape (rows, cols) whose data are `values`."""
    descr, code, _ = FORMATS[dtype]
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%d, %d), }" % (descr, rows, cols)
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(struct.pack("<%d%s" % (len(values), code), *values))


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:6] == b"\x93NUMPY", path
    length = struct.unpack("<H", data[8:10])[0]
    header = data[10:10 + length].decode()
    dtype = [d for d, (descr, _, _) in FORMATS.items() if descr in header][0]
    shape = tuple(int(s) for s in header.split("(")[1].split(")")[0].split(",") if s.strip())
    _, code, size = FORMATS[dtype]
    count = math.prod(shape)
    values = struct.unpack("<%d%s" % (count, code), data[10 + length:10 + length + count * size])
    cols = shape[1] if len(shape) == 2 else 1
    return [list(values[r * cols:(r + 1) * cols]) for r in range(shape[0])]


def sqdist(a, b):
    return sum((u - v) ** 2 for u, v in zip(a, b))


def main():
    command = sys.argv[1]
    if command == "random":
        path, dtype, rows, cols, seed = sys.argv[2:7]
        rng = random.Random(int(seed))
        write(path, dtype, int(rows), int(cols), [rng.random() for _ in range(int(rows) * int(cols))])
        return
    if command == "header":
        path, dtype, rows, cols = sys.argv[2:6]
        write(path, dtype, int(rows), int(cols), [0.0] * 3)
        return
    if command == "gauss":
        x, y, b, out = (read(p) for p in sys.argv[2:6])
        worst = 0.0
        for xi, oi in zip(x, out):
            ref = sum(math.exp(-sqdist(xi, yj)) * bj[0] for yj, bj in zip(y, b))
            worst = max(worst, abs(oi[0] - ref) / abs(ref))
        print("rows %d max_rel_err %s" % (len(out), "ok" if worst < 1e-5 else worst))
        return
    if command == "argmin":
        x, y, out = (read(p) for p in sys.argv[2:5])
        bad = 0
        for xi, oi in zip(x, out):
            best = min(sqdist(xi, yj) for yj in y)
            bad += abs(sqdist(xi, y[int(oi[0])]) - best) > 1e-5 * max(best, 1.0)
        print("rows %d wrong %d" % (len(out), bad))
        return
    sys.exit("unknown command " + command)


if __name__ == "__main__":
    main()
