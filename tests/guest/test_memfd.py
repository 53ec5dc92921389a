"""memfds: contents, name, seals, offset and shared mappings."""

from crlib import Workload, checkpoint_restart, fd_target, fdinfo, report



def test_memfd_keeps_contents_and_seals(image):
    """A sealed 3 MiB memfd, also mapped MAP_SHARED: contents, name, seals and sharing kept."""
    wl = Workload("memfd")
    wl.wait_ready()
    fd = int(wl.logged(r"^memfd fd (\d+)$")[0])

    def check(pid, when):
        assert fd_target(pid, fd) == "/memfd:cr-test (deleted)", f"{when}: fd {fd} is {fd_target(pid, fd)}"
        assert int(fdinfo(pid, fd)["pos"]) == 4101, f"{when}: {fdinfo(pid, fd)}"
        maps = [line for line in open(f"/proc/{pid}/maps") if "/memfd:cr-test (deleted)" in line]
        assert len(maps) == 1 and maps[0].split()[1] == "rw-s", f"{when}: memfd mappings {maps}"

    check(wl.pid, "before checkpoint")
    pid = checkpoint_restart(wl, image)
    report(f"memfd (3 MiB, mapped): image {image.stat().st_size >> 10} KiB")
    check(pid, "after restart")
    wl.assert_verifies(pid)
