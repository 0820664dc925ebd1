"""Check an audit pack offline, with only the training organisation's public key.

This module is deliberately small and self-contained (Python's standard library and the
`cryptography` package, nothing of cohortbot), so an auditor can read it, or rewrite it in any
language, from this description of the pack:

- The pack is a ZIP file. `MANIFEST.json` lists every other file with its SHA-256 (hex), under
  `"files"`: `{"attendance/x.csv": "<sha256>", ...}`.
- `MANIFEST.sig` holds the Ed25519 signature of the exact bytes of `MANIFEST.json`: 128 lower-case
  hex digits, nothing else.
- A pack is intact when the signature verifies with the organisation's public key (obtained from
  them, not from the pack: `evidence/public-key.pem` in the pack only helps compare fingerprints),
  every listed file is present with that SHA-256, and no other file is present.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

MANIFEST, SIGNATURE, PACKED_KEY = "MANIFEST.json", "MANIFEST.sig", "evidence/public-key.pem"


@dataclass
class PackCheck:
    problems: list[str] = field(default_factory=list)  # each starts with the file it is about
    files: int = 0
    key_from_pack: bool = False  # no key was given: the pack's own key proves integrity, not origin

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_pack(path: Path, public_key_pem: bytes | None = None) -> PackCheck:
    check = PackCheck()
    try:
        pack = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as e:
        check.problems.append(f"{path.name}: not a readable ZIP file ({e})")
        return check
    with pack:
        contents: dict[str, bytes] = {}
        for name in pack.namelist():
            try:
                contents[name] = pack.read(name)
            except Exception as e:
                check.problems.append(f"{name}: unreadable, its bytes were changed inside the ZIP ({e})")
    manifest_bytes, signature = contents.pop(MANIFEST, None), contents.pop(SIGNATURE, None)
    if manifest_bytes is None or signature is None:
        check.problems.append(f"{MANIFEST if manifest_bytes is None else SIGNATURE}: missing")
        return check
    check.key_from_pack = public_key_pem is None
    key_pem = public_key_pem if public_key_pem is not None else contents.get(PACKED_KEY, b"")
    try:
        key = load_pem_public_key(key_pem)
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 key")
        if not re.fullmatch(rb"[0-9a-f]{128}", signature):  # exactly 64 bytes in lower-case hex
            raise ValueError("not a signature")
        key.verify(bytes.fromhex(signature.decode("ascii")), manifest_bytes)
        files = json.loads(manifest_bytes)["files"]
    except (InvalidSignature, ValueError, UnicodeDecodeError, KeyError, TypeError):
        check.problems.append(
            f"{MANIFEST}: its signature ({SIGNATURE}) does not verify with the public key: "
            "the manifest or its signature was changed, or the key is not the organisation's"
        )
        return check
    for name, expected in sorted(files.items()):
        if name not in contents:
            if not any(p.startswith(f"{name}:") for p in check.problems):
                check.problems.append(f"{name}: missing")
        elif hashlib.sha256(contents[name]).hexdigest() != expected:
            check.problems.append(f"{name}: changed (its SHA-256 is not the one in the manifest)")
    check.problems += [f"{name}: added (not in the manifest)" for name in sorted(set(contents) - set(files))]
    check.files = len(files)
    return check


if __name__ == "__main__":  # python VERIFY.py pack.zip [organisation.pub.pem]
    import sys

    key_file = Path(sys.argv[2]).read_bytes() if len(sys.argv) > 2 else None
    result = verify_pack(Path(sys.argv[1]), key_file)
    print("\n".join(result.problems) or f"OK: {result.files} files as signed")
    sys.exit(0 if result.ok else 1)
