"""No Secret Service: an SSH session to a GPU box, the usual case (issue 12 case 8). The
home's D-Bus address leads nowhere (`DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent/…`)."""

import pytest

from home import NO_BUS, Checks
from test_old_client import OLD_TOKEN, old_login


@pytest.mark.matrix('case 8: no Secret Service: the plan, what runs, the exit status', 'hub0', 'git')
def test_case8_without_a_keyring_the_plan_says_so_first_and_runs_what_it_can(headless_home):
    """Before showing a plan hfguard knows whether a Secret Service answers. Without one the
    plan says so first, keeps what can run (chmod, history redaction), marks the keyring
    steps "needs a keyring" with what to do on a headless box (a gnome-keyring in a D-Bus
    session, or the kernel keyutils backend), and never fails half-way after confirmation
    (it showed the whole plan and failed only after `--yes`, changing nothing)."""
    home = headless_home
    home.git("config", "--global", "credential.helper", "store")
    t = old_login(home)  # ~/.huggingface/token 0644, ~/.git-credentials
    home.write(".bashrc", f"export HF_TOKEN={t}\n")
    home.write(".bash_history", f"ls\nhf auth login --token {t}\nnvidia-smi\n", 0o600)
    bashrc = home.read(".bashrc")
    before = home.snapshot()

    c = Checks(home)
    dry = home.hfguard("fix", "--all", "--dry-run")
    lines = [line for line in dry.out.splitlines() if line.strip()]
    c.that(bool(lines) and "keyring" in lines[0].lower(),
           f"the plan does not start by saying there is no keyring:\n{dry}")
    c.that("needs a keyring" in dry.out, "no step of the plan is marked `needs a keyring`")
    c.that("gnome-keyring" in dry.out and "keyutils" in dry.out,
           "the plan does not say what to do on a headless box (gnome-keyring, keyutils)")

    r = home.hfguard("fix", "--all", "--yes")
    c.same(r.code, 1, "fix --all's exit status (what could run ran; the rest needs a keyring)")
    c.that("needs a keyring" in r.out + r.err, f"fix does not name what is left and why:\n{r}")
    c.same(oct(home.mode(".huggingface/token")), oct(0o600), "the token file's mode")
    c.same(home.read(".huggingface/token"), t, "the token file (nothing to keep it elsewhere)")
    c.that(t not in home.read(".bash_history"), "the history still holds the token")
    c.same(home.read(".bashrc"), bashrc, ".bashrc")
    c.same(home.value(OLD_TOKEN, old=True), t, "HfFolder.get_token()")
    # With no keyring the redacted secret is kept nowhere (never in the journal), so undo
    # cannot put it back: the plan must say so before anything runs.
    c.that(any("undo" in line and "cannot" in line for line in dry.out.splitlines()),
           "the plan does not say that undo cannot restore a secret redacted without a keyring")
    redacted_history = home.read(".bash_history")
    c.done()

    home.undo_all()
    home.assert_restored(before, skip=(".bash_history",))
    assert home.read(".bash_history") == redacted_history


STARTUP = {
    ".bashrc": "export HF_TOKEN={t}\n",  # bash -i (a new terminal)
    ".profile": "export HF_TOKEN={t}\n",  # bash -l (a login without a terminal)
    ".zshenv": "export HF_TOKEN={t}\n",  # every zsh, scripts included
    ".config/fish/config.fish": "set -gx HF_TOKEN {t}\n",  # every fish
}

SHELLS = [  # (shell, interactive, login)
    ("bash", True, False),
    ("bash", False, True),
    ("zsh", True, False),
    ("zsh", False, False),
    ("fish", True, False),
    ("fish", False, False),
]


@pytest.mark.matrix('case 8: start-up lookups once the keyring is gone', 'bash', 'zsh', 'fish')
def test_case8_lookups_never_break_a_shell_when_the_keyring_is_gone(home):
    """Where a fix did run, a later shell without a Secret Service printed an error and
    exported `HF_TOKEN=""`. Start-up lookups that cannot reach the keyring leave the variable
    unset, print nothing to a non-interactive shell and one short line to an interactive
    one."""
    t = home.token(user="alice", display="laptop")
    for rel, line in STARTUP.items():
        home.write(rel, line.format(t=t))
    before = home.snapshot()

    home.fix()

    c = Checks(home)
    c.same(home.files_holding(t), [], "files still holding the token")
    for shell, interactive, login in SHELLS:
        what = " ".join([shell] + (["-i"] if interactive else []) + (["-l"] if login else []))
        value, errors = home.new_shell(shell, interactive=interactive, login=login)
        c.same(value, t, f"HF_TOKEN in a new `{what}` with the keyring")
        value, errors = home.new_shell(shell, interactive=interactive, login=login,
                                       env={"DBUS_SESSION_BUS_ADDRESS": NO_BUS})
        c.same(value, None, f"HF_TOKEN in a new `{what}` without a keyring")
        if interactive:
            c.that(len(errors) <= 1 and all(len(e) <= 120 for e in errors),
                   f"`{what}` without a keyring printed more than one short line: {errors}")
        else:
            c.same(errors, [], f"what `{what}` without a keyring printed")
    c.done()

    home.undo_all()
    home.assert_restored(before)
