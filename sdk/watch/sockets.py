"""Unix domain sockets by inode, from the kernel's ``sock_diag`` netlink interface.

A Node.js orchestrator gives its children ``stdio: 'pipe'`` as Unix socketpairs, not pipes, so
a worker stuck on an open stdin may be waiting on a socket. Whether that socket is a feed from
another process needs its *peer*: ``/proc/PID/fd`` names only ``socket:[inode]`` and
``/proc/net/unix`` lists Unix sockets without peers; ``sock_diag`` (what ``ss -x`` uses) gives
the peer's inode to any user, for sockets in the caller's network namespace. The process that
holds the peer is then found in ``/proc`` (:func:`swarmscope.procfs.holders_of`).
"""

from __future__ import annotations

import socket
import struct
from typing import NamedTuple

_NETLINK_SOCK_DIAG, _SOCK_DIAG_BY_FAMILY, _NLMSG_ERROR = 4, 20, 2
_UDIAG_SHOW_PEER, _UNIX_DIAG_PEER = 0x4, 2
_ANY_STATE = _NO_COOKIE = 0xFFFFFFFF
CONNECTED = 1  # TCP_ESTABLISHED, as sock_diag reports a connected Unix socket


class UnixSocket(NamedTuple):
    """A Unix domain socket as ``sock_diag`` describes it."""

    type: int  # socket.SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET
    state: int  # CONNECTED, 10 listening, 7 unconnected
    peer: int | None  # inode of the other end


def unix_socket(inode: int) -> UnixSocket | None:
    """The Unix socket with ``inode``; None when it is not one (TCP, UDP, gone), or when
    netlink is unavailable."""
    # struct unix_diag_req: family, protocol, pad, states, ino, show, cookie[2]
    request = struct.pack("=BBHIIIII", socket.AF_UNIX, 0, 0, _ANY_STATE, inode,
                          _UDIAG_SHOW_PEER, _NO_COOKIE, _NO_COOKIE)  # fmt: skip
    header = struct.pack("=IHHII", 16 + len(request), _SOCK_DIAG_BY_FAMILY, 1, 0, 0)
    try:
        with socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, _NETLINK_SOCK_DIAG) as s:
            s.settimeout(1.0)
            s.sendto(header + request, (0, 0))
            data = s.recv(65536)
    except OSError:
        return None
    return _parse(data, inode)


def _parse(data: bytes, inode: int) -> UnixSocket | None:
    if len(data) < 32:
        return None
    length, kind = struct.unpack_from("=IH", data)
    if kind == _NLMSG_ERROR:
        return None
    # struct unix_diag_msg after the 16-byte header: family, type, state, pad, ino, cookie[2]
    _family, stype, state, _pad, found = struct.unpack_from("=BBBBI", data, 16)
    if found != inode:
        return None
    peer, offset = None, 32  # then netlink attributes: length, type, payload
    while offset + 4 <= min(length, len(data)):
        size, attr = struct.unpack_from("=HH", data, offset)
        if attr == _UNIX_DIAG_PEER and size >= 8:
            peer = struct.unpack_from("=I", data, offset + 4)[0]
        offset += max(4, (size + 3) & ~3)
    return UnixSocket(stype, state, peer)
