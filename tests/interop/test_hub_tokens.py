"""huggingface_hub's own token stores, written by huggingface_hub 2.x itself: two saved
logins, an OAuth (browser) login, a token path moved by `HF_TOKEN_PATH`, a home moved by
`HF_HOME` (issue 12 cases 1, 2, 10 and the two-`stored_tokens` scenario).

Client facts (huggingface_hub 2.4.0):
- constants.py: `HF_TOKEN_PATH` = `$HF_TOKEN_PATH`, else `$HF_HOME/token`;
  `HF_STORED_TOKENS_PATH` = `stored_tokens` in the folder of `HF_TOKEN_PATH`.
- `_login._save_oauth_token` (what the browser/device login calls once the device code is
  authorised) stores the access token under `oauth-<user>` with `refresh_token` and
  `expires_at` (utils/_auth._save_token), then makes it the active token.
- `_login.auth_list` (`hf auth list`) prints every `stored_tokens` section."""

import pytest

import json

from home import Checks


def logins(home, *names):
    """`hf auth login --token` once per display name (the last one is active)."""
    tokens = []
    for name in names:
        t = home.token(user="alice", display=name)
        home.hub_login(t)
        tokens.append(t)
    return tokens


def stored_tokens(home, **kw) -> dict:
    out = home.value(
        "import json; from huggingface_hub.utils import get_stored_tokens;"
        " print(json.dumps(get_stored_tokens()))",
        **kw,
    )
    return json.loads(out)


def slot_for(home, display: str) -> dict | None:
    """The slot that keeps the `stored_tokens` entry named `display` (label or identity
    `hf:stored:<display>`, as src/slots.rs defines them)."""
    for s in home.slots():
        if s.get("label") == display or f"hf:stored:{display}" in s.get("identities", []):
            return s
    return None


@pytest.mark.matrix('two `stored_tokens` entries keep their names; the active one is the default', 'hf')
def test_two_stored_tokens_keep_their_names_and_the_active_one_stays_the_default(home):
    work, personal = logins(home, "work", "personal")
    assert stored_tokens(home) == {"work": work, "personal": personal}
    assert home.hub_get_token() == personal
    before = home.snapshot()

    home.fix()

    c = Checks(home)
    c.same(home.files_holding(work, personal), [], "files still holding a token")
    listing = home.hf("auth", "list")
    c.that("work" not in listing.out and "personal" not in listing.out,
           f"`hf auth list` still shows the logins:\n{listing.out}")
    # The token huggingface_hub used is the default of exec and token get.
    c.same(home.hub_get_token(exec_=True), personal, "exec's HF_TOKEN")
    c.same(home.token_get(), personal, "token get")
    # `[work]` stays recognisable, and serves its own token.
    tl = home.hfguard("token", "list").out
    c.that("work" in tl, f"`hfguard token list` does not name the `work` login:\n{tl}")
    slot = slot_for(home, "work")
    if c.that(slot is not None, f"no slot keeps the display name `work`: {home.slots()}"):
        c.same(home.hub_get_token(exec_=["--name", slot["name"]]), work,
               f"exec --name {slot['name']}")
    c.done()

    home.undo_all()
    home.assert_restored(before)
    assert stored_tokens(home) == {"work": work, "personal": personal}


@pytest.mark.matrix('case 1: an OAuth login (`hf_oauth_…` token file, `refresh_token`)', 'hf')
def test_case1_an_oauth_login_is_fixed_whole(home):
    """Issue 12 case 1: a token file holding an OAuth access token (`hf_oauth_…`, written by
    a browser login) was skipped with "the secret is no longer where the scan saw it", and the
    `oauth-<user>` section with its `refresh_token` stayed in `stored_tokens`, so
    `hf auth list` still showed the login."""
    access = home.token(prefix="hf_oauth_", length=40, user="alice", display=None)
    refresh = home.token(prefix="hf_oauth_", length=48)
    home.python(
        "import fakehub, os; fakehub.install();"
        " from huggingface_hub._login import _save_oauth_token;"
        " _save_oauth_token({'access_token': os.environ['HFG_ACCESS'],"
        " 'refresh_token': os.environ['HFG_REFRESH'], 'expires_in': 30 * 86400})",
        env={"HFG_ACCESS": access, "HFG_REFRESH": refresh},
    )
    assert home.read(".cache/huggingface/token") == access
    assert "[oauth-alice]" in home.read(".cache/huggingface/stored_tokens")
    assert home.hub_get_token() == access
    before = home.snapshot()

    r = home.fix()

    c = Checks(home)
    c.that("no longer where the scan saw it" not in r.out + r.err, f"a step was skipped:\n{r}")
    c.same(home.files_holding(access), [], "files still holding the OAuth access token")
    c.same(home.files_holding(refresh), [], "files still holding the OAuth refresh token")
    listing = home.hf("auth", "list")
    c.that("oauth-alice" not in listing.out, f"`hf auth list` still shows the login:\n{listing.out}")
    c.same(home.hub_get_token(exec_=True), access, "exec's HF_TOKEN")
    c.same(home.fixable_left(), [], "findings left after fix --all")
    c.that(r.code == 0, f"fix --all exited {r.code}")
    c.done()

    home.undo_all()
    home.assert_restored(before)


@pytest.mark.matrix('case 2: `HF_TOKEN_PATH` beside a stale default token file', 'hf', 'bash')
def test_case2_the_token_huggingface_hub_uses_is_the_default(home):
    """Issue 12 case 2: with `HF_TOKEN_PATH` set and an older token left at the default path,
    keyring names followed path sort order, so `exec`, `token get` and start-up lookups served
    the stale one. huggingface_hub itself reads `HF_TOKEN_PATH` (constants.py)."""
    (stale,) = logins(home, "old-laptop")  # at ~/.cache/huggingface/token
    home.env["HF_TOKEN_PATH"] = str(home.path(".config/huggingface/token"))
    (current,) = logins(home, "current")
    home.write(".bashrc", f"export HF_TOKEN={current}\n")
    assert home.hub_get_token() == current
    assert home.read(".cache/huggingface/token") == stale
    before = home.snapshot()

    home.fix()

    c = Checks(home)
    c.same(home.files_holding(stale, current), [], "files still holding a token")
    c.same(home.hub_get_token(exec_=True), current, "exec's HF_TOKEN")
    c.same(home.token_get(), current, "token get")
    c.same(home.new_shell("bash")[0], current, "a new bash's HF_TOKEN")
    c.done()

    home.undo_all()
    home.assert_restored(before)


@pytest.mark.matrix('case 10: token files left behind when `HF_HOME` moved', 'hf')
def test_case10_token_files_left_behind_by_a_moved_hf_home_are_still_token_files(home):
    """Issue 12 case 10: after `HF_HOME` moved, the old default token files were taken for
    project files and redacted in place; with `HF_HOME` unset again, huggingface_hub read the
    marker from `~/.cache/huggingface/token` and sent it as a token."""
    (old,) = logins(home, "before-move")
    home.env["HF_HOME"] = str(home.path("hf"))
    (new,) = logins(home, "after-move")
    assert home.read("hf/token") == new
    before = home.snapshot()

    home.fix()

    c = Checks(home)
    c.same(home.files_holding(old, new), [], "files still holding a token")
    markers = home.files_holding("[hfguard:redacted")
    c.same(markers, [], "token files given a redaction marker")
    # HF_HOME unset again: huggingface_hub must find no token, never a marker.
    c.same(home.hub_get_token(env={"HF_HOME": None}), None, "get_token() without HF_HOME")
    c.same(home.hub_get_token(exec_=True), new, "exec's HF_TOKEN")
    c.same(home.token_get(), new, "token get")
    c.done()

    home.undo_all()
    home.assert_restored(before)
