# check_cubin.py - Checks a cubin from keops-run: a 64-bit ELF image of
# NVIDIA's machine (EM_CUDA = 190) holding the text of a keops_ kernel.
#   check_cubin.py FILE.cubin
#   check_cubin.py --bundle FILE.json KIND K   (the bundle's base64 cubin)
# SPDX-License-Identifier: MIT
import base64
import json
import struct
import sys

if sys.argv[1] == "--bundle":
    bundle = json.load(open(sys.argv[2]))
    assert bundle["reduction"] == sys.argv[3], bundle["reduction"]
    assert bundle["k"] == int(sys.argv[4]), bundle["k"]
    image = base64.b64decode(bundle["cubin"])
else:
    image = open(sys.argv[1], "rb").read()
assert image[:4] == b"\x7fELF", image[:4]
assert image[4] == 2, "not a 64-bit ELF"
machine = struct.unpack_from("<H", image, 18)[0]
assert machine == 190, f"e_machine {machine}, expected EM_CUDA (190)"
assert b".text.keops_" in image, "no keops_ kernel text"
