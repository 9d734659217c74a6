#!/usr/bin/python3
"""Prints the registry "variants" of an UpscalerJS model package tarball (from `npm pack`).

usage: models/hash_npm_package.py NAME upscalerjs-esrgan-slim-1.0.0.tgz

Reads the tarball itself (not an unpacked copy), so what it prints is exactly what
`upscaled models fetch` will find after checking the tarball's sha512 integrity. Used
to fill models/registry.json; run it again when a package version changes.
"""
import hashlib
import json
import re
import sys
import tarfile


def main():
    name, tarball = sys.argv[1], sys.argv[2]
    variants = {}
    with tarfile.open(tarball, "r:gz") as tar:
        for member in tar.getmembers():
            m = re.fullmatch(r"package/models/x(\d+)/([^/]+)", member.name)
            if not m or not member.isfile():
                continue
            data = tar.extractfile(member).read()
            scale, base = int(m.group(1)), m.group(2)
            variants.setdefault(scale, []).append({
                "path": f"{name}/x{scale}/{base}",
                "archive_path": member.name,
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            })
    out = []
    for scale in sorted(variants):
        files = sorted(variants[scale], key=lambda f: (not f["path"].endswith("model.json"), f["path"]))
        out.append({"scale": scale, "entry": f"{name}/x{scale}/model.json", "files": files})
    json.dump(out, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
