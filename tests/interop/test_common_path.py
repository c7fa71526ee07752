"""The path most users take: git's `store` helper, then
`hf auth login --token T --add-to-git-credential` (huggingface_hub 2.x), then `hfguard fix`.

What the client does (huggingface_hub 2.4.0):
- `_login._validate_and_save_token` calls whoami (faked), `_save_token` writes the token
  under its display name in `stored_tokens`, `_set_active_token` writes `HF_TOKEN_PATH`;
  both through `utils/_auth._write_secret` (0600, folder 0700).
- With `--add-to-git-credential`, `_set_active_token` calls `set_git_credential`
  (`utils/_git_credential.py`): `git credential approve` with
  `url=https://huggingface.co username=hf_user password=T`, but only when
  `list_credential_helpers()` finds a helper. That function greps `git config --list` for
  `^credential.helper=` — a host-specific `credential.https://huggingface.co.helper` is not
  seen (see test_add_to_git_credential_ignores_a_host_only_helper).
- `get_token()` (utils/_auth.py): `HF_TOKEN`, else `HUGGING_FACE_HUB_TOKEN`, else the file
  at `HF_TOKEN_PATH`."""

import pytest

from home import redacted


def common_home(home):
    """git's store helper and a login that adds the token to git, as the Hub docs say."""
    t = home.token(user="alice", display="laptop")
    home.git("config", "--global", "credential.helper", "store")
    home.hub_login(t, git=True)
    # What the client wrote, in its own words: token file, stored_tokens, git's store.
    assert home.read(".cache/huggingface/token") == t
    assert f"[laptop]\nhf_token = {t}\n" in home.read(".cache/huggingface/stored_tokens")
    assert home.read(".git-credentials") == f"https://hf_user:{t}@huggingface.co\n"
    return t


@pytest.mark.matrix("common path: `hf auth login --add-to-git-credential` with git's store helper", 'hf', 'git')
def test_common_path_keeps_hub_git_and_exec_working_and_undo_restores(home):
    t = common_home(home)
    before = home.snapshot()

    home.fix()

    # No plaintext left anywhere in the home; the rescan has nothing left to fix.
    assert home.files_holding(t) == []
    assert home.fixable_left() == []
    # huggingface_hub alone finds no token; under exec it gets this one.
    assert home.hub_get_token() is None
    assert home.hub_get_token(exec_=True) == t
    assert home.token_get() == t
    # git gets it from the helper hfguard configured.
    cred = home.credential_fill()
    assert cred is not None, "git got no credential for huggingface.co after the fix"
    assert cred["password"] == t and cred["username"] == "hf_user"
    # The token is listed, redacted.
    listing = home.hfguard("token", "list")
    assert redacted(t) in listing.out, listing

    home.undo_all()
    home.assert_restored(before)
    assert home.hub_get_token() == t
    assert home.credential_fill()["password"] == t


@pytest.mark.matrix('case 7: `fix --all` exits 0 after a complete fix', 'hf', 'git')
def test_case7_fix_all_exits_0_after_a_complete_fix(home):
    """Issue 12 case 7: on this most common home, the `credential.helper=store` finding
    advertised a keyring fix that was always skipped, so `fix --all` exited 1 although the
    rescan showed nothing left. Exit status of `fix`: 0 when everything it was asked to fix
    is fixed."""
    common_home(home)
    r = home.fix()
    assert home.fixable_left() == []
    assert r.code == 0, f"fix --all exited {r.code} after a complete fix:\n{r}"


@pytest.mark.matrix('client behaviour: `--add-to-git-credential` ignores a host-only helper', 'hf', 'git')
def test_add_to_git_credential_ignores_a_host_only_helper(home):
    """What huggingface_hub does when only a host-specific helper is configured (as hfguard
    leaves `~/.gitconfig` once the global `store` line is gone): `list_credential_helpers`
    only matches `credential.helper=`, so `hf auth login --add-to-git-credential` prints
    "Cannot authenticate through git-credential as no helper is defined" and never calls
    `git credential approve`. A behaviour of the client, pinned so a new release that changes
    it is noticed (it decides whether a re-login reaches hfguard's helper)."""
    t = home.token(user="alice", display="laptop")
    home.git("config", "--global", "credential.https://huggingface.co.helper", "store")
    r = home.hub_login(t, git=True)
    assert "no helper is defined" in r.out + r.err
    assert not home.path(".git-credentials").exists()
