"""Unlinked regular files: their contents and holes saved in the image, their sharing
between fds and mappings of several processes kept."""

from crlib import Workload, checkpoint_restart, fd_target, fdinfo, report



def test_unlinked_files_keep_contents_holes_and_sharing(image):
    """An unlinked 5 MiB file, an unlinked sparse 2 GiB file with 1 MiB of data, and an unlinked
    file only a parent's and a child's shared mappings keep: the image holds about their data."""
    wl = Workload("unlinked")
    wl.wait_ready()
    a, b, addr, child = wl.logged(r"^unlinked ready: a fd (\d+), .*; b fd (\d+), .*; "
                                   r"c 64 KiB mapped at 0x([0-9a-f]+); child (\d+)$")
    child = int(child)

    def check(pid, when):
        for fd in (a, b):
            assert fd_target(pid, fd).endswith(" (deleted)"), f"{when}: fd {fd} is {fd_target(pid, fd)}"
        assert int(fdinfo(pid, a)["pos"]) == 1234 and int(fdinfo(pid, b)["pos"]) == 777, when
        for task in (pid, child):
            maps = [line for line in open(f"/proc/{task}/maps") if line.startswith(addr + "-")]
            assert maps and maps[0].rstrip().endswith("(deleted)"), f"{when}: {task} maps {maps}"

    check(wl.pid, "before checkpoint")
    pid = checkpoint_restart(wl, image)
    size = image.stat().st_size
    report(f"unlinked files (6 MiB of data, 2 GiB apparent): image {size >> 10} KiB")
    assert size < 16 << 20, f"the image is {size} bytes: the sparse file's holes were saved?"
    check(pid, "after restart")
    wl.assert_verifies(pid)
