#!/usr/bin/env python3
"""Times the dashboard's first frame, from the outside, in a real pseudo-terminal.

    scripts/first-frame.py --bin target/release/hfguard --home DIR [--home DIR ...] [--runs N]

For each run, the clock starts just before fork and exec of `hfguard --home DIR` on a fresh
80x24 pty, and stops when the last text of the first frame (the key bar's "quit", on the
bottom row, which ratatui writes last) has come out of the pty. So the time covers exec,
dynamic linking, argument and config parsing, raw mode, the alternate screen and the first
draw: everything the user waits for. The pty answers no query, as a slow terminal would not in
time. It then keeps reading, feeding the output to a small screen model (later frames only
write the cells that changed), until the header says the scan is done ("scanned N files"):
the time until the dashboard shows the full audit. Then it sends `q` and checks that the
dashboard exits with status 0.

Prints one JSON object per home on stdout: the median, 90th percentile and maximum of each
time, in seconds. scripts/bench calls it; docs/performance.md shows the results.
"""

import argparse
import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import sys
import termios
import time

FIRST_FRAME = b"quit"
SCAN_DONE = "scanned "
CSI = re.compile(rb"\x1b\[([0-9;?]*)([A-Za-z])")


class Screen:
    """Just enough of a terminal for what ratatui and crossterm write: cursor moves, clears,
    text. Attributes and modes are ignored."""

    def __init__(self, cols, rows):
        self.cols, self.rows = cols, rows
        self.grid = [[" "] * cols for _ in range(rows)]
        self.x = self.y = 0
        self.pending = b""

    def feed(self, data):
        data = self.pending + data
        self.pending = b""
        i = 0
        while i < len(data):
            if data[i] == 0x1B:
                m = CSI.match(data, i)
                if not m:
                    if len(data) - i < 32:  # an escape cut by the read: wait for the rest
                        self.pending = data[i:]
                        return
                    i += 1
                    continue
                params, final = m.group(1), m.group(2)
                if final == b"H" and not params.startswith(b"?"):
                    parts = [int(p) if p else 1 for p in params.split(b";")] if params else [1]
                    self.y = min(self.rows - 1, parts[0] - 1)
                    self.x = min(self.cols - 1, (parts[1] if len(parts) > 1 else 1) - 1)
                elif final == b"J" and params == b"2":
                    self.grid = [[" "] * self.cols for _ in range(self.rows)]
                i = m.end()
                continue
            # One UTF-8 character (wait for the rest when the read cut it).
            n = 1 if data[i] < 0x80 else 2 if data[i] < 0xE0 else 3 if data[i] < 0xF0 else 4
            if i + n > len(data):
                self.pending = data[i:]
                return
            ch = data[i : i + n].decode("utf-8", "replace")
            i += n
            if ch in "\r\n":
                continue
            if self.x < self.cols:
                self.grid[self.y][self.x] = ch
            self.x += 1

    def row(self, y):
        return "".join(self.grid[y])


def one_run(binary, home, cols, rows, timeout):
    t0 = time.perf_counter()
    pid, master = pty.fork()
    if pid == 0:
        try:
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            env = {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "HOME": home,
                "TERM": "xterm-256color",
                "LANG": "C.UTF-8",
            }
            os.execve(binary, [binary, "--home", home], env)
        finally:
            os._exit(127)
    seen = bytearray()
    screen = Screen(cols, rows)
    first = done = None
    deadline = t0 + timeout
    quit_sent = None
    status = None
    try:
        while True:
            now = time.perf_counter()
            if now > deadline:
                raise TimeoutError(
                    f"{home}: no {'first frame' if first is None else 'end of scan'} "
                    f"after {timeout} s"
                )
            r, _, _ = select.select([master], [], [], 0.05)
            if r:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child has closed the pty
                    chunk = b""
                if not chunk:
                    break
                stamp = time.perf_counter()
                # Search the tail of what came before too: a marker may be split across reads.
                start = max(0, len(seen) - 16)
                seen += chunk
                if first is None and seen.find(FIRST_FRAME, start) >= 0:
                    first = stamp - t0
                screen.feed(chunk)
                if first is not None and done is None and SCAN_DONE in screen.row(2):
                    done = stamp - t0
                if done is not None and quit_sent is None:
                    os.write(master, b"q")
                    quit_sent = stamp
                # Keep only a tail: the full output of a long scan is not needed.
                if len(seen) > 1 << 20:
                    del seen[: len(seen) - 64]
            wpid, st = os.waitpid(pid, os.WNOHANG)
            if wpid == pid:
                status = st
                break
            if quit_sent is not None and time.perf_counter() - quit_sent > 5:
                raise TimeoutError(f"{home}: the dashboard did not exit 5 s after q")
    finally:
        if status is None:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            _, status = os.waitpid(pid, 0)
        os.close(master)
    if first is None or done is None:
        raise RuntimeError(f"{home}: the dashboard exited before drawing (status {status})")
    if not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0):
        raise RuntimeError(f"{home}: the dashboard exited with status {status}")
    return first, done


def summary(values):
    v = sorted(values)
    n = len(v)
    median = v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2
    p90 = v[min(n - 1, int(round(0.9 * (n - 1))))]
    return {"median": median, "p90": p90, "max": v[-1]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True, help="the hfguard binary")
    ap.add_argument("--home", action="append", required=True, help="a home to open (repeatable)")
    ap.add_argument("--runs", type=int, default=20, help="timed runs per home (default 20)")
    ap.add_argument("--warmup", type=int, default=2, help="untimed runs first (default 2)")
    ap.add_argument("--size", default="80x24", help="terminal COLSxROWS (default 80x24)")
    ap.add_argument("--timeout", type=float, default=300, help="seconds per run (default 300)")
    args = ap.parse_args()
    cols, rows = (int(x) for x in args.size.split("x"))
    binary = os.path.realpath(args.bin)
    for home in args.home:
        home = os.path.realpath(home)
        for _ in range(args.warmup):
            one_run(binary, home, cols, rows, args.timeout)
        firsts, dones = [], []
        for _ in range(args.runs):
            first, done = one_run(binary, home, cols, rows, args.timeout)
            firsts.append(first)
            dones.append(done)
        print(
            json.dumps(
                {
                    "home": home,
                    "runs": args.runs,
                    "first_frame": summary(firsts),
                    "scan_done": summary(dones),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    try:
        main()
    except (TimeoutError, RuntimeError) as e:
        print(f"first-frame.py: {e}", file=sys.stderr)
        sys.exit(1)
