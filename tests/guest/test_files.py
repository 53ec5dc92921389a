"""Open files, pipes, the working directory."""

from crlib import Workload, checkpoint_restart, inspect_json


def test_files_offsets_flags_and_cwd(image):
    wl = Workload("files")
    wl.wait_ready()
    pid = checkpoint_restart(wl, image)
    wl.assert_verifies(pid)


def test_pipe_with_60k_of_data(image):
    wl = Workload("pipe")
    wl.wait_ready()
    pid = checkpoint_restart(wl, image)
    pipes = [r for r in inspect_json(image)["records"] if r["type"] == "PIPE"]
    assert [p["data_len"] for p in pipes] == [60 * 1024], pipes
    wl.assert_verifies(pid)
