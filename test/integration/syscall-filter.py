#!/usr/bin/env python3
"""Usage: syscall-filter.py UNIT COMMAND [ARGS...]

Runs COMMAND under the seccomp filter the systemd unit UNIT asks for: its SystemCallFilter=
lines (allow lists, and ~ deny lists taken away from them) expanded by `systemd-analyze
syscall-filter`, every other syscall failing with EPERM (SystemCallErrorNumber=EPERM), applied
through libseccomp as systemd applies it. The deb test runs the packaged daemon through it, so
a filter that node or lmdb cannot live with fails there rather than on a server.
Exit 2 on bad usage, else COMMAND's exit code.
"""
import ctypes
import os
import subprocess
import sys

EPERM = 1
SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_ACT_ERRNO = 0x00050000


def expand(name, seen):
    """The syscalls of a name: a group (@...) recursively, or the syscall itself."""
    if not name.startswith('@'):
        return {name}
    if name in seen:
        return set()
    seen.add(name)
    out = subprocess.run(
        ['systemd-analyze', 'syscall-filter', name], capture_output=True, text=True, check=True
    ).stdout
    names = set()
    for line in out.splitlines()[1:]:
        line = line.strip()
        if line and not line.startswith('#'):
            names |= expand(line, seen)
    return names


def unit_filter(path):
    allowed, denied = set(), set()
    with open(path, encoding='utf-8') as unit:
        for line in unit:
            line = line.strip()
            if not line.startswith('SystemCallFilter='):
                continue
            value = line.split('=', 1)[1].strip()
            target = denied if value.startswith('~') else allowed
            for name in value.lstrip('~').split():
                target |= expand(name, set())
    if not allowed:
        sys.exit(f'syscall-filter: {path} has no SystemCallFilter= allow list')
    return allowed - denied


def main():
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        sys.exit(2)
    syscalls = unit_filter(sys.argv[1])
    lib = ctypes.CDLL('libseccomp.so.2')
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_rule_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    ctx = lib.seccomp_init(SCMP_ACT_ERRNO | EPERM)
    for name in sorted(syscalls):
        number = lib.seccomp_syscall_resolve_name(name.encode())
        # Names of other architectures do not resolve here; systemd skips them too.
        if number >= 0:
            lib.seccomp_rule_add(ctx, SCMP_ACT_ALLOW, number, 0)
    if lib.seccomp_load(ctx) != 0:
        sys.exit('syscall-filter: cannot load the filter')
    os.execvp(sys.argv[2], sys.argv[2:])


main()
