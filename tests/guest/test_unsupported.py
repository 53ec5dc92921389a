"""What cannot be saved yet is refused at checkpoint, naming it: never an image without
it, and the process runs on untouched."""

import re

import pytest

from crlib import Workload, assert_checkpoint_refused


def test_inotify_is_refused_naming_the_fd(image):
    """Checkpoint of a process holding an inotify fd: EOPNOTSUPP naming the fd, no image, and
    the process runs on untouched, not left stopped."""
    wl = Workload("inotify")
    wl.wait_ready()
    fd = int(wl.logged(r"^inotify fd (\d+)$")[0])
    res = assert_checkpoint_refused(wl, image, "inotify")
    assert re.search(rf"\bfd[ =:#]*{fd}\b", res.stderr), f"the error does not name fd {fd}: {res.stderr}"


@pytest.mark.parametrize("kind,what", [("cputimer", "CPU-time clock"), ("socket", "a socket"),
                                       ("io_uring", "io_uring"), ("pidfd", "a pidfd"),
                                       ("opath", "an O_PATH file")])
def test_unsupported_kinds_are_refused_clearly(image, kind, what):
    """What cannot be saved yet makes checkpoint fail with EOPNOTSUPP naming it, never
    an image without it; the process runs on untouched."""
    wl = Workload("unsupported", env={"CR_UNSUPPORTED": kind})
    wl.wait_ready()
    assert_checkpoint_refused(wl, image, what)
