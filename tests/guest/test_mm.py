"""Address spaces: memory contents, sparse mappings, every kind of VMA."""

from crlib import Workload, checkpoint_restart, inspect_json


def test_64mib_pattern_and_sparse_1gib(image):
    wl = Workload("memory")
    wl.wait_ready()
    pid = checkpoint_restart(wl, image)
    # Only touched pages are saved: 64 MiB plus 8 sparse pages plus the program's own.
    info = inspect_json(image)
    pages = info["pages"]
    assert 16384 + 8 <= pages < 16384 + 8 + 512, f"{pages} pages saved"
    assert image.stat().st_size < (64 << 20) + (4 << 20), f"image is {image.stat().st_size} bytes"
    wl.assert_verifies(pid)


def test_vma_kinds_and_protections(image):
    wl = Workload("vmas")
    wl.wait_ready()
    pid = checkpoint_restart(wl, image)
    kinds = {r["kind"] for r in inspect_json(image)["records"] if r["type"] == "VMA"}
    assert {"anon", "anon-shared", "file-private", "file-shared", "vdso", "vvar"} <= kinds, kinds
    wl.assert_verifies(pid)
