"""File descriptor BIOs (BIO_s_fd.pod): read() and write() on any descriptor, plus lseek() for the file position.

Reads, writes, puts, the descriptor and close-flag ctrls, end of file and retries behave as on a socket BIO (the
socket kind's implementation is reused: both are thin wrappers round read()/write() on a descriptor; EAGAIN on a
non-blocking descriptor is a retry for that direction, BIO_s_fd: NOTES). What differs is the file position:
BIO_reset() is lseek(fd, 0, SEEK_SET), BIO_seek() lseek(fd, ofs, SEEK_SET), BIO_tell() lseek(fd, 0, SEEK_CUR), and
each returns what lseek() gives: the new position (so 0 for a successful reset), or -1 (BIO_ctrl.pod RETURN VALUES:
seek and tell give the position; BIO_ctrl.pod's "file BIO returns 0" exception for BIO_seek is read as
BIO_s_file). The page says BIO_gets() is not supported, so it is not (libcrypto 3.0 has one: an erratum in
conformance/expectations/libssl.toml).
"""

from __future__ import annotations

import os
from typing import Any

from engine import err
from engine.bio.constants import BIO_CTRL_INFO, BIO_CTRL_RESET, BIO_TYPE_FD
from engine.bio.core import BIO, BIO_METHOD, BIO_ctrl, BIO_free, BIO_new
from engine.bio.sock import BIO_set_fd, _oserr, _Socket

__all__ = ["BIO_new_fd", "BIO_s_fd", "BIO_seek", "BIO_tell"]

BIO_C_FILE_SEEK = 128  # openssl/bio.h (3.0)
BIO_C_FILE_TELL = 133


class _Fd(_Socket):
    __slots__ = ()

    def _lseek(self, bio: BIO, offset: int, whence: int) -> int:
        if not bio.init:
            return -1
        try:
            return os.lseek(bio.num, offset, whence)
        except (OSError, OverflowError) as e:
            err.set_errno(_oserr(e))
            return -1

    def ctrl(self, bio: BIO, cmd: int, larg: int, parg: Any) -> int:
        if cmd == BIO_CTRL_RESET:
            return 0 if self._lseek(bio, 0, os.SEEK_SET) >= 0 else -1
        if cmd == BIO_C_FILE_SEEK:
            return self._lseek(bio, larg, os.SEEK_SET) if larg >= 0 else -1
        if cmd in (BIO_C_FILE_TELL, BIO_CTRL_INFO):
            return self._lseek(bio, 0, os.SEEK_CUR)
        return super().ctrl(bio, cmd, larg, parg)


_BIO_METHOD_FD = BIO_METHOD(BIO_TYPE_FD, "file descriptor", lambda: (_Fd(), False))


def BIO_s_fd() -> BIO_METHOD:
    return _BIO_METHOD_FD


def BIO_new_fd(fd: int, close_flag: int) -> BIO | None:
    # BIO_s_fd: RETURN VALUES "the newly allocated BIO or NULL" (a bad descriptor is refused like BIO_set_fd does)
    b = BIO_new(_BIO_METHOD_FD)
    if b is None:
        return None
    if BIO_set_fd(b, fd, close_flag) != 1:
        BIO_free(b)
        return None
    return b


def BIO_seek(b: BIO | None, ofs: int) -> int:
    return BIO_ctrl(b, BIO_C_FILE_SEEK, ofs, None)


def BIO_tell(b: BIO | None) -> int:
    return BIO_ctrl(b, BIO_C_FILE_TELL, 0, None)
