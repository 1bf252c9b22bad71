# corrupt-cache.py - Damages every entry of a KeOps-MLIR disk cache.
# SPDX-License-Identifier: MIT
"""Usage: corrupt-cache.py DIR garbage|bad-object
garbage:    replaces each entry with bytes that are not an entry;
bad-object: keeps the entry format valid (a correct digest) around a payload
            that is not an object file, so only the JIT can reject it."""
import hashlib
import pathlib
import sys

directory, mode = pathlib.Path(sys.argv[1]), sys.argv[2]
entries = sorted(directory.glob("*.kobj"))
assert entries, "no cache entry in %s" % directory
for entry in entries:
    if mode == "garbage":
        entry.write_bytes(b"\x00garbage")
    else:
        payload = b"this is not an object file"
        digest = hashlib.sha256(payload).hexdigest().encode()
        entry.write_bytes(b"keops-object " + digest + b"\n" + payload)
print("damaged %d entries" % len(entries))
