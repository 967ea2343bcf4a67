"""autograd_core.files: the one atomic writer, the bounded reader and staged folders,
and every writer of the project going through them (issue 13)."""

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from autograd_core import Value, files

HERE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def child(code, *args, timeout=120, **kwargs):
    """Run Python code in a fresh interpreter with the project importable."""
    env = dict(os.environ, PYTHONPATH=HERE + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args],
                          capture_output=True, text=True, timeout=timeout, env=env, **kwargs)


# ------------------------------------------------------------------- the writer
def test_writes_whole_files_with_ordinary_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        path = files.write_bytes(tmp_path / "a.bin", b"\x00\x01")
        assert open(path, "rb").read() == b"\x00\x01"
        assert os.stat(path).st_mode & 0o777 == 0o644
        files.atomic_write(tmp_path / "t.txt", lambda f: f.write("é\r\n"))
        assert (tmp_path / "t.txt").read_bytes() == "é\r\n".encode()  # no newline translation
    finally:
        os.umask(umask)
    assert sorted(os.listdir(tmp_path)) == ["a.bin", "t.txt"]


@pytest.mark.parametrize("kind, message", [("folder", "it is a folder"),
                                           ("fifo", r"it is a FIFO \(named pipe\)"),
                                           ("device", "it is a device")])
def test_refuses_folders_fifos_and_devices(tmp_path, kind, message):
    if kind == "folder":
        target = tmp_path / "d"
        target.mkdir()
    elif kind == "fifo":
        target = tmp_path / "pipe"
        os.mkfifo(target)
    else:
        target = "/dev/null"
    with pytest.raises(FileExistsError, match=f"{message}, not a regular file") as caught:
        files.write_bytes(target, b"x")
    assert "\n" not in str(caught.value)
    assert os.listdir(tmp_path) == ([] if kind == "device" else [os.path.basename(target)])


def test_writes_through_a_symlink_the_user_made(tmp_path):
    real = tmp_path / "real.txt"
    real.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    files.write_bytes(link, b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"


def test_a_dangling_symlink_is_written_through_to_its_target(tmp_path):
    link = tmp_path / "link.txt"
    link.symlink_to(tmp_path / "made.txt")
    files.write_bytes(link, b"x")
    assert (tmp_path / "made.txt").read_bytes() == b"x" and link.is_symlink()


@pytest.mark.parametrize("error", [RuntimeError("disk on fire"), KeyboardInterrupt()])
def test_an_error_or_ctrl_c_while_writing_leaves_the_old_file_and_no_temporary(tmp_path, error):
    path = tmp_path / "f.txt"
    path.write_text("old")

    def write(f):
        f.write("half")
        raise error

    with pytest.raises(type(error)):
        files.atomic_write(path, write)
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["f.txt"]


def test_the_temporary_name_is_not_predictable_so_a_planted_symlink_redirects_nothing(tmp_path):
    """Today render() and step_through_html() wrote through PATH.tmp<pid>: a symlink
    planted under that name made them overwrite any file the user could write."""
    from visualize import render
    from visualize.step_through import step_through_html

    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    for name in ("g.svg", "page.html"):
        os.symlink(victim, tmp_path / f"{name}.tmp{os.getpid()}")
    x = Value(2.0, label="x")
    y = x * x
    y.backward()
    render(y, tmp_path / "g.svg")
    step_through_html(y, tmp_path / "page.html")
    assert victim.read_text() == "precious"
    assert (tmp_path / "g.svg").read_text().startswith("<?xml")
    assert (tmp_path / "page.html").read_text().startswith("<!DOCTYPE html>")


def test_sigint_while_writing_exits_without_leaving_a_temporary(tmp_path):
    """A real Ctrl-C in the middle of a slow write: the temporary file goes with it."""
    ready = tmp_path / "ready"
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import time
            from autograd_core import files
            def slow(f):
                f.write(b"x" * 1000)
                f.flush()
                open({str(ready)!r}, "w").close()
                time.sleep(60)
            files.atomic_write({str(tmp_path / "out.bin")!r}, slow, mode="wb")
        """)], env=dict(os.environ, PYTHONPATH=HERE), stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(600):
            if ready.exists():
                break
            import time
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode != 0 and "KeyboardInterrupt" in stderr
    assert sorted(os.listdir(tmp_path)) == ["ready"]


# -------------------------------------------------------------------- render
def _neuron():
    w, x = Value(0.5, label="w"), Value(2.0, label="x")
    z = (w * x).sigmoid()
    z.backward()
    return z


def test_render_format_follows_the_extension(tmp_path):
    """Today render(root, "g.png") wrote SVG bytes into the .png."""
    from visualize import render
    assert (tmp_path / "g.png").exists() is False
    render(_neuron(), tmp_path / "g.png")
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    render(_neuron(), tmp_path / "G.SVG")
    assert (tmp_path / "G.SVG").read_text().startswith("<?xml")
    render(_neuron(), tmp_path / "picture", format="png")  # no extension: as asked
    assert (tmp_path / "picture").read_bytes()[:4] == b"\x89PNG"
    render(_neuron(), tmp_path / "picture2")  # no extension, no format: svg
    assert (tmp_path / "picture2").read_text().startswith("<?xml")


def test_render_refuses_a_format_that_contradicts_the_extension(tmp_path):
    from visualize import render
    with pytest.raises(ValueError, match=r"ends in \.png but format='svg' was asked for"):
        render(_neuron(), tmp_path / "g.png", format="svg")
    with pytest.raises(ValueError, match=r"ends in \.svg but format='png'"):
        render(_neuron(), tmp_path / "g.svg", format="png")
    assert os.listdir(tmp_path) == []


def test_render_refuses_a_fifo_before_drawing(tmp_path):
    from visualize import render
    os.mkfifo(tmp_path / "g.svg")
    with pytest.raises(FileExistsError, match="FIFO"):
        render(_neuron(), tmp_path / "g.svg")


# ------------------------------------------------------------------- reading
def test_read_regular_file_limits(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"12345")
    assert files.read_regular_file(path, 5) == b"12345"
    with pytest.raises(files.FileTooLargeError, match="5 bytes, more than the limit of 4 bytes"):
        files.read_regular_file(path, 4)
    os.mkfifo(tmp_path / "p")
    with pytest.raises(OSError, match="is a FIFO"):
        files.read_regular_file(tmp_path / "p", 10)  # returns at once, never waits
    with pytest.raises(OSError, match="is a device"):
        files.read_regular_file("/dev/zero", 10)
    with pytest.raises(IsADirectoryError, match="is a folder"):
        files.read_regular_file(tmp_path, 10)
    with pytest.raises(FileNotFoundError, match="no such file"):
        files.read_regular_file(tmp_path / "none", 10)


# --------------------------------------------------------------- staged folders
def _folder(path, **contents):
    path.mkdir(exist_ok=True)
    for name, text in contents.items():
        (path / name).write_text(text)


def _contents(path):
    return {name: (path / name).read_text() for name in sorted(os.listdir(path))}


def test_staged_folder_replaces_the_whole_folder(tmp_path):
    out = tmp_path / "run"
    _folder(out, a="old a", b="old b")
    with files.staged_folder(out) as staging:
        assert os.path.dirname(staging) == str(tmp_path)
        open(os.path.join(staging, "a"), "w").write("new a")
        assert _contents(out) == {"a": "old a", "b": "old b"}  # untouched until the end
    assert _contents(out) == {"a": "new a"}  # the old b does not linger beside it
    assert os.listdir(tmp_path) == ["run"]
    with files.staged_folder(tmp_path / "fresh") as staging:
        open(os.path.join(staging, "x"), "w").write("x")
    assert _contents(tmp_path / "fresh") == {"x": "x"}


@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_staged_folder_keeps_the_old_one_on_error(tmp_path, error):
    out = tmp_path / "run"
    _folder(out, a="old a")
    with pytest.raises(type(error)):
        with files.staged_folder(out) as staging:
            open(os.path.join(staging, "a"), "w").write("new")
            raise error
    assert _contents(out) == {"a": "old a"} and os.listdir(tmp_path) == ["run"]


def test_staged_folder_refuses_a_file(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(FileExistsError, match="a file of that name exists"):
        with files.staged_folder(tmp_path / "f"):
            pass


def test_leftovers_of_a_killed_run_are_removed_but_not_a_live_one(tmp_path):
    out = tmp_path / "run"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    (tmp_path / f".run{files.STAGING_MARK}{dead}-abc").mkdir()
    live = tmp_path / f".run{files.STAGING_MARK}{os.getppid()}-abc"
    live.mkdir()
    with files.staged_folder(out):
        pass
    assert sorted(os.listdir(tmp_path)) == sorted(["run", live.name])


def test_describe_size():
    assert files.describe_size(512) == "512 bytes"
    assert files.describe_size(3_100_000) == "3.1 MB"
    assert "e+" in files.describe_size(10 ** 40)  # never a 30-digit number


@pytest.mark.parametrize("exchange", [True, False])
def test_the_swap_with_and_without_renameat2(tmp_path, monkeypatch, exchange):
    calls = []
    real = files.exchange_folders

    def spy(a, b):
        calls.append(real(a, b) if exchange else False)  # False: as on other systems
        return calls[-1]

    monkeypatch.setattr(files, "exchange_folders", spy)
    out = tmp_path / "run"
    _folder(out, a="old")
    with files.staged_folder(out) as staging:
        open(os.path.join(staging, "b"), "w").write("new")
    assert _contents(out) == {"b": "new"} and os.listdir(tmp_path) == ["run"]
    assert calls == [exchange] and (sys.platform != "linux" or not exchange or calls[0])
