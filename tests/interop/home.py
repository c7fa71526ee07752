"""A fixture home for the interop suite: a temp folder that is HOME for every process the
test starts (hfguard with `--home` pointing there too), the real clients that write and read
credentials in it, and the checks every scenario shares (no plaintext left, no secret in
hfguard's output or journal, every byte and mode back after `undo --all`).

The real clients run in virtual environments made by `./scripts/test` (pinned in
`requirements*.txt`); `clients/` is on their PYTHONPATH: `sitecustomize.py` blocks the
network, `fakehub.py` answers the one network call a login makes (whoami)."""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shutil
import string
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
CLIENTS = HERE / "clients"

# Lines that interactive shells without a terminal print on their own, whatever the start-up
# files say (bash's job control, fish's terminal set-up).
SHELL_NOISE = re.compile(
    r"^(bash: cannot set terminal process group|bash: no job control in this shell"
    r"|warning: (Could not set up terminal|TERM environment variable|Using fallback terminal))"
)

# What clients may leave in a home by merely running (not what a fix wrote): fish's state,
# hfguard's own journal and index. Anything else new after `undo --all` is a leftover.
BY_PRODUCTS = re.compile(
    r"^(\.config$|\.config/fish$|\.config/fish/fish_variables$|\.local$|\.local/share$"
    r"|\.local/share/fish(/.*)?$|\.local/state$|\.local/state/hfguard(/.*)?$)"
)

NO_BUS = "unix:path=/nonexistent/hfguard-interop-bus"


def hf_token(prefix: str = "hf_", length: int = 34) -> str:
    """A fresh random token of Hugging Face's shape (never a valid one)."""
    alphabet = string.ascii_letters + string.digits
    while True:
        body = "".join(secrets.choice(alphabet) for _ in range(length))
        # Mixed case and digits, like real tokens (and well above hfguard's entropy floor).
        if any(c.isdigit() for c in body) and any(c.isupper() for c in body):
            return prefix + body


def redacted(token: str, prefix: int = 3) -> str:
    """The redacted form hfguard shows: the prefix, an ellipsis, the last four."""
    return f"{token[:prefix]}…{token[-4:]}"


@dataclass
class Run:
    code: int
    out: str
    err: str

    def __str__(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.out}\n--- stderr\n{self.err}"


def hfguard_bin() -> Path:
    path = os.environ.get("HFGUARD_INTEROP_BIN")
    assert path, "HFGUARD_INTEROP_BIN is not set: run the suite through ./scripts/test"
    return Path(path)


class Home:
    """One scenario's home. `keyring=False` gives it a D-Bus address that leads nowhere: no
    Secret Service, as on an SSH session to a GPU box."""

    def __init__(self, root: Path, scratch: Path, name: str, keyring: bool, binary: Path | None):
        self.root = root
        self.scratch = scratch  # outside the home: what no audit should see
        self.tokens: list[str] = []
        self.identities: dict[str, dict] = {}
        self.identities_file = scratch / "identities.json"
        self._write_identities()
        self.bin = binary
        venv_bin = Path(sys.executable).parent
        self.env = {
            "PATH": f"{root}/.local/bin:{venv_bin}:{os.environ['PATH']}",
            "HOME": str(root),
            "LANG": "C.UTF-8",
            "TERM": "dumb",
            "USER": os.environ.get("USER", "root"),
            # git: nothing from the machine's /etc/gitconfig, never a password prompt.
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_TERMINAL_PROMPT": "0",
            "HF_HUB_DISABLE_UPDATE_CHECK": "1",
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "PYTHONPATH": str(CLIENTS),
            "PYTHONDONTWRITEBYTECODE": "1",
            "HFG_IDENTITIES_FILE": str(self.identities_file),
            "IPYTHONDIR": str(scratch / "ipython"),
        }
        if keyring:
            bus = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
            assert bus and os.environ.get("HFGUARD_TEST_KEYRING") == "1", (
                "no test Secret Service: run the suite through ./scripts/test, which starts "
                "gnome-keyring in a private D-Bus session"
            )
            self.env["DBUS_SESSION_BUS_ADDRESS"] = bus
        else:
            self.env["DBUS_SESSION_BUS_ADDRESS"] = NO_BUS
        # Each home its own keyring service: tests never see each other's entries.
        self.env["HFGUARD_KEYRING_SERVICE"] = f"hfguard-interop-{name}-{secrets.token_hex(4)}"

    # ---- files -------------------------------------------------------------------------

    def path(self, rel: str) -> Path:
        return self.root / rel

    def write(self, rel: str, content: str | bytes, mode: int = 0o644) -> Path:
        p = self.path(rel)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content.encode() if isinstance(content, str) else content)
        p.chmod(mode)
        return p

    def read(self, rel: str) -> str:
        return self.path(rel).read_text()

    def mode(self, rel: str) -> int:
        return self.path(rel).lstat().st_mode & 0o7777

    def token(self, prefix: str = "hf_", length: int = 34, user: str | None = None,
              display: str | None = None) -> str:
        """A new token, remembered for the leak checks; with `user`, the fake whoami knows it
        (`display` is its display name; None for an OAuth token)."""
        t = hf_token(prefix, length)
        self.tokens.append(t)
        if user:
            self.identities[t] = {"user": user, "display": display}
            self._write_identities()
        return t

    def secret(self, value: str) -> str:
        """Remembers a secret of another shape for the leak checks."""
        self.tokens.append(value)
        return value

    def _write_identities(self):
        self.identities_file.write_text(json.dumps(self.identities))

    # ---- processes ---------------------------------------------------------------------

    def run(self, argv: list[str], *, env: dict | None = None, cwd: Path | None = None,
            input: str | None = None, timeout: int = 120) -> Run:
        full_env = dict(self.env)
        for k, v in (env or {}).items():
            if v is None:
                full_env.pop(k, None)
            else:
                full_env[k] = v
        p = subprocess.run(
            argv, env=full_env, cwd=cwd or self.root, input=input, capture_output=True,
            text=True, timeout=timeout, stdin=None if input is not None else subprocess.DEVNULL,
        )
        return Run(p.returncode, p.stdout, p.stderr)

    def hfguard(self, *args: str, env: dict | None = None, leak_check: bool = True,
                binary: Path | None = None) -> Run:
        """`hfguard SUB --home HOME REST…` (for exec, `--home` goes before `--`)."""
        binary = binary or self.bin
        assert binary, "this home has no hfguard"
        argv = [str(binary), args[0], "--home", str(self.root), *args[1:]]
        r = self.run(argv, env=env)
        if leak_check:
            self.assert_no_leak(r.out, "hfguard's stdout")
            self.assert_no_leak(r.err, "hfguard's stderr")
        return r

    def fix(self, *args: str, env: dict | None = None, binary: Path | None = None) -> Run:
        r = self.hfguard("fix", "--yes", *(args or ("--all",)), env=env, binary=binary)
        assert r.code in (0, 1), f"hfguard fix crashed or refused:\n{r}"
        self.assert_journal_has_no_secret()
        return r

    def undo_all(self) -> Run:
        r = self.hfguard("undo", "--all")
        assert r.code == 0, f"undo --all failed:\n{r}"
        return r

    @staticmethod
    def exec_told(fix: Run, mentioning: str | None = None) -> list[str]:
        """The `hfguard exec` options the fix's notes tell the user to run programs with (for
        the note that mentions `mentioning`): what a user who follows the fix types. []
        when the notes name plain `hfguard exec` (or none)."""
        notes = [line for line in fix.out.splitlines() if line.startswith("note:") and " exec" in line]
        if mentioning:
            notes = [line for line in notes if mentioning in line] or notes
        for line in notes:
            m = re.search(r"hfguard exec((?: --name \S+)*) -- CMD", line)
            if m:
                return m.group(1).split()
        return []

    def token_get(self, *args: str) -> str | None:
        r = self.hfguard("token", "get", *args, leak_check=False)
        return r.out if r.code == 0 else None

    def python(self, code: str, *, old: bool = False, exec_: bool | list[str] = False,
               env: dict | None = None, input: str | None = None) -> Run:
        """Runs `code` in the huggingface_hub 2.x venv (`old`: the 0.10 one); `exec_` runs it
        under `hfguard exec` (a list: with those exec options)."""
        py = old_python() if old else sys.executable
        argv = [str(py), "-c", code]
        if exec_:
            opts = exec_ if isinstance(exec_, list) else []
            argv = [str(self.bin), "exec", "--home", str(self.root), *opts, "--", *argv]
        return self.run(argv, env=env, input=input)

    def value(self, code: str, **kw) -> str | None:
        """What `code` prints (`None` when it printed the word None); when the client (or
        the `hfguard exec` around it) fails, a `<failed: …>` text that a comparison shows."""
        r = self.python(code, **kw)
        if r.code != 0:
            last = (r.err.strip().splitlines() or ["(nothing on stderr)"])[-1]
            return f"<failed: exit {r.code}: {last}>"
        out = r.out.strip()
        return None if out == "None" else out

    def hf(self, *args: str, env: dict | None = None) -> Run:
        """The real `hf` CLI of huggingface_hub 2.x (only whoami faked)."""
        r = self.run([sys.executable, str(CLIENTS / "hf.py"), *args], env=env)
        assert r.code == 0, f"hf {' '.join(a if a not in self.tokens else '…' for a in args)}:\n{r}"
        return r

    def hub_login(self, token: str, *, git: bool = False, env: dict | None = None) -> Run:
        """`hf auth login --token T [--add-to-git-credential]`, as the README of the Hub says."""
        args = ["auth", "login", "--token", token, "--force"]
        if git:
            args.append("--add-to-git-credential")
        return self.hf(*args, env=env)

    def hub_get_token(self, **kw) -> str | None:
        """huggingface_hub 2.x's own answer: `get_token()` (utils/_auth.py)."""
        return self.value("from huggingface_hub import get_token; print(get_token())", **kw)

    def git(self, *args: str, cwd: Path | None = None, input: str | None = None,
            check: bool = True) -> Run:
        r = self.run(["git", *args], cwd=cwd, input=input)
        if check:
            assert r.code == 0, f"git {' '.join(args)}:\n{r}"
        return r

    def credential_fill(self, host: str = "huggingface.co", username: str | None = None,
                        cwd: Path | None = None) -> dict | None:
        """What `git credential fill` answers for https://[username@]host, as git asks before
        a push (run inside `cwd`, so a repository's own config counts). None when git gets
        nothing (it would prompt: GIT_TERMINAL_PROMPT=0 makes that a failure)."""
        query = f"protocol=https\nhost={host}\n" + (f"username={username}\n" if username else "")
        r = self.git("credential", "fill", cwd=cwd, input=query + "\n", check=False)
        if r.code != 0:
            return None
        return dict(line.split("=", 1) for line in r.out.splitlines() if "=" in line)

    def new_shell(self, shell: str, var: str = "HF_TOKEN", *, interactive: bool = True,
                  login: bool = False, env: dict | None = None) -> tuple[str | None, list[str]]:
        """A new shell's value of `var` (None: unset) and what it printed on stderr, less the
        shell's own no-terminal noise. `bash -ic` is a new terminal (reads `.bashrc`),
        `bash -lc` a login without a terminal (`.profile`), `zsh -c` reads `.zshenv`, fish
        reads `config.fish` either way."""
        flags = "-" + ("l" if login else "") + ("i" if interactive else "") + "c"
        if shell == "fish":
            script = f"if set -q {var}; printf 'set:%s' \"${var}\"; end"
        else:
            script = f"[ -n \"${{{var}+x}}\" ] && printf 'set:%s' \"${var}\"; true"
        r = self.run([shell, flags, script], env=env)
        errors = [line for line in r.err.splitlines() if line.strip() and not SHELL_NOISE.match(line)]
        value = r.out[4:] if r.out.startswith("set:") else None
        return value, errors

    # ---- checks ------------------------------------------------------------------------

    def assert_no_leak(self, text: str, where: str):
        for t in self.tokens:
            assert t not in text, f"a full secret leaked into {where}:\n{text}"
            if len(t) > 12:
                assert t[3:] not in text, f"a secret's body leaked into {where}"

    def assert_journal_has_no_secret(self):
        """hfguard's state (journal entries, the slot index) never holds a plaintext secret,
        not even base64-encoded in a journal's file template."""
        state = self.path(".local/state/hfguard")
        if not state.exists():
            return
        for p in state.rglob("*"):
            if not p.is_file():
                continue
            text = p.read_text(errors="replace")
            self.assert_no_leak(text, str(p))
            if p.suffix == ".json":
                for s in _strings(json.loads(text)):
                    try:
                        decoded = base64.b64decode(s, validate=True).decode(errors="replace")
                    except ValueError:
                        continue
                    self.assert_no_leak(decoded, f"{p} (base64)")

    def files_holding(self, *values: str) -> list[str]:
        """Every file under the home (hfguard's state included, programs aside) holding one of
        `values`."""
        hits = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            for f in filenames:
                p = Path(dirpath) / f
                if p.is_symlink() or not p.is_file():
                    continue
                data = p.read_bytes()
                if data.startswith(b"\x7fELF"):
                    continue  # hfguard itself (installed in the home) holds the marker's text
                if any(v.encode() in data for v in values):
                    hits.append(str(p.relative_to(self.root)))
        return sorted(hits)

    def scan(self) -> dict:
        r = self.hfguard("scan", "--format", "json", "--skip", "processes", "--skip", "environment")
        assert r.code in (0, 1), f"scan failed:\n{r}"
        return json.loads(r.out)

    def fixable_left(self) -> list[str]:
        """Findings a rescan still reports that a fix exists for (info findings aside)."""
        return [
            f"{f['rule']} {f['path']}:{f['line']} {f['secret']}"
            for f in self.scan()["findings"]
            if f["fixes"] and f["severity"] != "info" and "ignored" not in f
        ]

    def slots(self) -> list[dict]:
        """hfguard's slot index (src/slots.rs: the contract), [] when none."""
        p = self.path(".local/state/hfguard/tokens.json")
        if not p.exists():
            return []
        return [s if isinstance(s, dict) else {"name": s} for s in json.loads(p.read_text())]

    def snapshot(self) -> dict[str, tuple]:
        """Every file, folder and link under the home: bytes, mode, target."""
        snap = {}
        for dirpath, dirnames, filenames in os.walk(self.root):
            for name in dirnames + filenames:
                p = Path(dirpath) / name
                rel = str(p.relative_to(self.root))
                st = p.lstat()
                if p.is_symlink():
                    snap[rel] = ("link", os.readlink(p))
                elif p.is_dir():
                    snap[rel] = ("dir", oct(st.st_mode & 0o7777))
                else:
                    snap[rel] = ("file", oct(st.st_mode & 0o7777), p.read_bytes())
        return snap

    def assert_restored(self, before: dict[str, tuple], only: list[str] | None = None,
                        skip: tuple[str, ...] = ()):
        """After `undo --all`: every path of `before` (or of `only`; never of `skip`) is back
        byte for byte with its mode, and nothing new is left but client by-products and
        hfguard's state."""
        after = self.snapshot()
        problems = []
        for rel, was in before.items():
            if (only is not None and rel not in only) or rel in skip:
                continue
            now = after.get(rel)
            if now != was:
                problems.append(f"{rel}: {_describe(was)} → {_describe(now)}")
        if only is None:
            for rel in sorted(set(after) - set(before)):
                if not BY_PRODUCTS.match(rel):
                    problems.append(f"{rel}: left behind ({_describe(after[rel])})")
        for p in problems:
            self.assert_no_leak(p, "the restore report")
        assert not problems, "undo --all did not restore the home:\n  " + "\n  ".join(problems)


def old_python() -> Path:
    path = os.environ.get("HFGUARD_INTEROP_HUB0")
    assert path, "HFGUARD_INTEROP_HUB0 is not set: run the suite through ./scripts/test"
    return Path(path)


def _describe(entry: tuple | None) -> str:
    if entry is None:
        return "missing"
    if entry[0] == "file":
        return f"file {entry[1]} ({len(entry[2])} bytes)"
    return " ".join(str(x) for x in entry)


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def install_binary(home: Home, source: Path, rel: str = ".local/bin/hfguard") -> Path:
    """Puts hfguard where an installed one lives (a hard link: free, same bytes)."""
    dest = home.path(rel)
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, dest)
    except OSError:
        shutil.copy2(source, dest)
    return dest


class Checks:
    """Collects every broken expectation of a scenario before failing, so one run tells the
    whole story (which client broke, and how), never a full secret: values are compared and
    shown redacted."""

    def __init__(self, home: Home):
        self.home = home
        self.failed: list[str] = []

    def that(self, ok: bool, message: str) -> bool:
        if not ok:
            self.home.assert_no_leak(message, "a test message")
            self.failed.append(message)
        return ok

    def same(self, got, want, what: str) -> bool:
        return self.that(got == want, f"{what}: got {self.shown(got)}, want {self.shown(want)}")

    def shown(self, value) -> str:
        text = repr(value)
        for t in self.home.tokens:
            text = text.replace(t, f"<{redacted(t)}>")
        return text

    def done(self):
        assert not self.failed, "\n  - " + "\n  - ".join(self.failed)
