"""Every file chainrule writes goes through here, and so does every file it reads back.

Writing (`atomic_write`, `write_bytes`): the data go to a temporary file created in the
target's own folder by `tempfile.mkstemp` (an unpredictable name opened with O_EXCL, so
a symlink planted in that folder cannot redirect the write), are fsynced, and the file
is renamed over the target with `os.replace`, which is atomic: a reader, a crash or a
power cut sees the old file or the new one, never a mixture. A target that is a symlink
is written through to the file it points at (the user made it, and it stays a link);
a target that exists and is not a regular file (a folder, a device such as /dev/null, a
FIFO, a socket) is refused with one line, because the rename would replace it. On any
error, Ctrl-C included, the temporary file is removed before the error goes on.

Folders (`staged_folder`): a run of several files is written into a new hidden sibling
folder and swapped in whole, so the target folder holds either the complete old run or
the complete new one (Linux's renameat2(RENAME_EXCHANGE) makes the swap a single atomic
step; elsewhere it is two renames a few microseconds apart, with Ctrl-C held off).

Reading (`read_regular_file`): only a regular file, only up to a stated size; a FIFO
is never waited on and a device is never read.

Standard library only, and Python 3.9 compatible: the engine package runs on PyPy 3.9.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import shutil
import signal
import stat
import tempfile
import threading

__all__ = ["atomic_write", "write_bytes", "check_writable_target", "read_regular_file",
           "staged_folder", "exchange_folders", "FileTooLargeError", "describe_size",
           "interrupts_held"]


class FileTooLargeError(ValueError):
    """A file larger than the reader's stated limit; it was not read."""


def describe_size(n: int) -> str:
    """A byte count as people say it: 512 bytes, 3.1 MB, 2.0 GB."""
    if n >= 10 ** 300:  # beyond a float: say it by its number of digits
        digits = str(n)
        return f"{digits[0]}.{digits[1:3]}e+{len(digits) - 13} TB"
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            shown = n / size
            return f"{shown:.3g} {unit}" if shown < 1e4 else f"{shown:.3e} {unit}"
    return f"{n} bytes"


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_writable_target(path) -> str:
    """The real path a write to `path` lands on; FileExistsError if that is not a file.

    A symlink is followed to its target (the write goes through it); a folder, device,
    FIFO or socket is refused, since replacing it with a plain file is never wanted.
    """
    real = os.path.realpath(os.fspath(path))
    try:
        mode = os.stat(real).st_mode
    except FileNotFoundError:
        return real
    except OSError:
        return real  # let the write itself report the real problem (permissions, ...)
    if not stat.S_ISREG(mode):
        raise FileExistsError(f"cannot write {real}: it is {_kind(mode)}, not a regular "
                              "file; choose a file name")
    return real


@contextlib.contextmanager
def interrupts_held():
    """Hold off Ctrl-C (in the main thread) for a few statements; raise it afterwards.

    Used where an interrupt between two statements would leak a temporary file or leave
    a folder half-swapped. Other threads cannot receive Python signals, so for them this
    does nothing; neither does it replace a handler the program installed itself.
    """
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return
    caught = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


def _remove_quietly(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def atomic_write(path, write, mode: str = "w") -> str:
    """Call write(file) on a new temporary file beside `path`, then rename it to `path`.

    `mode` is "w" (text, UTF-8) or "wb". Returns the real path written. If anything
    fails before the rename (Ctrl-C included) the temporary file is removed and the old
    file, if any, is untouched.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write: mode must be 'w' or 'wb', got {mode!r}")
    path = check_writable_target(path)
    directory = os.path.dirname(path)
    with interrupts_held():  # no interrupt between creating the file and owning its cleanup
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.",
                                   suffix=".tmp")
    try:
        os.fchmod(fd, _permissions(path))  # mkstemp makes it private (0600)
        options = {} if mode == "wb" else {"encoding": "utf-8", "newline": ""}
        with os.fdopen(fd, mode, **options) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        with interrupts_held():
            os.replace(tmp, path)
    except BaseException:
        with interrupts_held():
            _remove_quietly(tmp)
        raise
    _fsync_directory(directory)  # so the rename itself survives a power cut
    return path


def write_bytes(path, data: bytes) -> str:
    """atomic_write for data already in memory."""
    return atomic_write(path, lambda f: f.write(data), mode="wb")


def _permissions(path):
    """The old file's permissions, or those a plain open() would give a new file."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _fsync_directory(directory):
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # not possible on every platform; the data itself is already synced
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ----------------------------------------------------------------------- reading
def read_regular_file(path, limit: int, what: str = "file") -> bytes:
    """The bytes of the regular file at `path`, refusing anything else or anything larger.

    Opened non-blocking, so a FIFO is refused at once instead of waited on; checked with
    fstat on the open file (no window for a swap); read at most `limit` + 1 bytes, so a
    file that grows meanwhile still cannot make the reader take more memory.
    Raises FileNotFoundError, IsADirectoryError, FileTooLargeError or OSError, each
    naming the file.
    """
    path = os.fspath(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise FileNotFoundError(errno.ENOENT, f"{what} {path}: no such file") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, f"{what} {path} is a folder, not a file")
        if not stat.S_ISREG(mode):
            raise OSError(errno.EINVAL, f"{what} {path} is {_kind(mode)}, not a regular "
                                        "file; it was not read")
        size = os.fstat(fd).st_size
        if size > limit:
            raise FileTooLargeError(f"{what} {path} is {describe_size(size)}, more than the "
                                    f"limit of {describe_size(limit)}; it was not read")
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise FileTooLargeError(f"{what} {path} grew past the limit of "
                                    f"{describe_size(limit)} while being read")
        return b"".join(chunks)
    finally:
        os.close(fd)


# ----------------------------------------------------------------------- folders
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _renameat2():
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        function = libc.renameat2
    except (OSError, AttributeError, TypeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                         ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


_renameat2_function = _renameat2() if os.name == "posix" else None


def exchange_folders(a, b) -> bool:
    """Swap the folders at paths a and b in one atomic step; False if not supported here."""
    if _renameat2_function is None:
        return False
    result = _renameat2_function(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b),
                                 _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False  # old kernel or a filesystem without the exchange
    raise OSError(code, f"cannot swap {b} into place: {os.strerror(code)}")


STAGING_MARK = ".chainrule-staging-"


def _staging_prefix(target):
    return f".{os.path.basename(target)}{STAGING_MARK}"


def remove_stale_staging(target):
    """Remove staging folders that a killed earlier run left beside `target`.

    A staging folder's name carries the process id that made it; only folders whose
    process is gone are removed, so two runs side by side never remove each other's.
    """
    parent = os.path.dirname(target)
    prefix = _staging_prefix(target)
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in names:
        if not name.startswith(prefix):
            continue
        pid = name[len(prefix):].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(os.path.join(parent, name), ignore_errors=True)


def _alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


@contextlib.contextmanager
def staged_folder(target):
    """Write a folder's files into the yielded staging folder; it replaces `target` whole.

    `target` may exist (a folder: it is replaced only when the block finishes without
    an error) or not (its parent must exist). On any error, Ctrl-C included, the staging
    folder is removed and `target` is left exactly as it was.
    """
    target = os.path.realpath(os.fspath(target))
    parent = os.path.dirname(target)
    if os.path.exists(target) and not os.path.isdir(target):
        raise FileExistsError(f"cannot write the folder {target}: a file of that name "
                              "exists; choose a folder name")
    remove_stale_staging(target)
    with interrupts_held():
        staging = tempfile.mkdtemp(dir=parent,
                                   prefix=f"{_staging_prefix(target)}{os.getpid()}-")
    try:
        try:
            mode = stat.S_IMODE(os.stat(target).st_mode)  # the old folder's, if any
        except OSError:
            mode = 0o777 & ~_umask()  # mkdtemp makes it private (0700)
        os.chmod(staging, mode)
        yield staging
        _fsync_directory(staging)
        with interrupts_held():
            _swap_in(staging, target)
    except BaseException:
        with interrupts_held():
            shutil.rmtree(staging, ignore_errors=True)
        raise
    # staging now holds the old run (or nothing); it is no longer anyone's run
    shutil.rmtree(staging, ignore_errors=True)
    _fsync_directory(parent)


def _umask():
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _swap_in(staging, target):
    if not os.path.lexists(target):
        os.rename(staging, target)
        return
    if exchange_folders(staging, target):
        return
    aside = staging + ".old"
    os.rename(target, aside)
    os.rename(staging, target)
    os.rename(aside, staging)
