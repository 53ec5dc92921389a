#!/usr/bin/env python3
"""The image format is written down three times: image-format.md (normative), the uapi
header (machine-readable) and the kernel's Documentation/userspace-api/checkpoint.rst
(the summary a kernel reviewer reads). Fail when they disagree on a record type, a
file kind, a flag or the format version.

  ci/check-docs.py [TREE]     TREE: the patched kernel tree (default linux-cr/)
"""
import re
import sys
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent


def enum_names(header: str, enum: str, prefix: str) -> list[str]:
    body = re.search(r"enum %s \{(.*?)\};" % enum, header, re.S)
    if not body:
        sys.exit(f"check-docs: enum {enum} not found in the uapi header")
    names = re.findall(r"^\s*%s(\w+)\s*=" % prefix, body.group(1), re.M)
    return [n for n in names if not n.endswith("_MAX")]


def main() -> int:
    tree = Path(sys.argv[1]) if len(sys.argv) > 1 else TOP / "linux-cr"
    header = (tree / "include/uapi/linux/checkpoint.h").read_text()
    fmt = (TOP / "image-format.md").read_text()
    rst = (tree / "Documentation/userspace-api/checkpoint.rst").read_text()
    problems = []

    for name in enum_names(header, "cr_rec_type", "CR_REC_"):
        if not re.search(r"\b%s\b" % name, fmt):
            problems.append(f"record {name}: not in image-format.md")
        if f"``{name}``" not in rst:
            problems.append(f"record {name}: not in checkpoint.rst's table of records")
    for name in enum_names(header, "cr_file_kind", "CR_FILE_"):
        if not re.search(r"\|\s*\d+ %s\s*\|" % name, fmt):
            problems.append(f"file kind {name}: no row in image-format.md's table of kinds")
        if f"``{name}``" not in rst:
            problems.append(f"file kind {name}: not in checkpoint.rst's table of file kinds")
    for flag in re.findall(r"^#define ((?:CHECKPOINT|RESTART)_\w+)\s", header, re.M):
        if flag.endswith("_ALL"):
            continue
        for doc, text in (("image-format.md", fmt), ("checkpoint.rst", rst)):
            if flag not in text:
                problems.append(f"flag {flag}: not in {doc}")
    version = re.search(r"^#define CR_IMAGE_VERSION\s+(\d+)", header, re.M).group(1)
    if not re.search(r"^\| %s \|" % version, fmt, re.M):
        problems.append(f"version {version}: no row in image-format.md's table of versions")
    if f"image format version {version}" not in rst:
        problems.append(f"version {version}: checkpoint.rst does not say it")

    for p in problems:
        print(f"check-docs: {p}", file=sys.stderr)
    if problems:
        print("check-docs: change the uapi header, image-format.md and checkpoint.rst together",
              file=sys.stderr)
        return 1
    print("check-docs: the uapi header, image-format.md and checkpoint.rst agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
