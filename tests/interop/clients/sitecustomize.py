"""Loaded by every Python client the interop suite starts (PYTHONPATH): no test may reach the
internet, so any connection or name lookup outside this machine fails loudly instead of
hanging or silently talking to huggingface.co."""

import socket

_LOCAL = ("localhost", "127.", "::1", "0.0.0.0")


def _is_local(host):
    return host is None or isinstance(host, bytes) or str(host).startswith(_LOCAL)


_getaddrinfo = socket.getaddrinfo
_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex


def _guarded_getaddrinfo(host, *args, **kwargs):
    if not _is_local(host):
        raise OSError(f"interop suite: network access to {host!r} is blocked")
    return _getaddrinfo(host, *args, **kwargs)


def _addr_ok(sock, address):
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return True  # unix sockets: D-Bus, git's helpers
    return _is_local(address[0])


def _guarded_connect(self, address):
    if not _addr_ok(self, address):
        raise OSError(f"interop suite: network access to {address!r} is blocked")
    return _connect(self, address)


def _guarded_connect_ex(self, address):
    if not _addr_ok(self, address):
        raise OSError(f"interop suite: network access to {address!r} is blocked")
    return _connect_ex(self, address)


socket.getaddrinfo = _guarded_getaddrinfo
socket.socket.connect = _guarded_connect
socket.socket.connect_ex = _guarded_connect_ex
