"""The one network call the interop suite replaces: huggingface_hub's token validation
(`GET /api/whoami-v2`). Everything else a client does (where it writes the token, which git
helper it calls, what it reads back) is the real client's code.

Identities come from the JSON file `$HFG_IDENTITIES_FILE` (outside the home, so no audit
sees it), `{token: {"user": ..., "display": ...}}`, filled by the tests: `display` is the token's `displayName` (huggingface_hub stores the token
under it in `stored_tokens`); an OAuth token has none (it is stored as `oauth-<user>`). An
unknown token is rejected as the Hub would reject it (401)."""

import json
import os


class InvalidToken(Exception):
    pass


def whoami_answer(token):
    """The whoami-v2 body for `token` (huggingface.js `api-who-am-i.ts` shape)."""
    path = os.environ.get("HFG_IDENTITIES_FILE")
    known = json.load(open(path)) if path else {}
    if token not in known:
        raise InvalidToken("401 Unauthorized: invalid token (fake whoami of the interop suite)")
    who = known[token]
    access = {"role": "write"}
    if who.get("display"):
        access["displayName"] = who["display"]
        auth = {"type": "access_token", "accessToken": access}
    else:
        auth = {"type": "oauth"}
    return {"type": "user", "name": who["user"], "fullname": who["user"], "orgs": [], "auth": auth}


def install():
    """Replaces whoami in whichever huggingface_hub is installed (0.10 or 2.x)."""
    from huggingface_hub import hf_api

    def fake_whoami(self_or_token=None, token=None, **_):
        if isinstance(self_or_token, str):
            token = self_or_token
        return whoami_answer(token)

    hf_api.HfApi.whoami = fake_whoami
    if hasattr(hf_api, "whoami"):
        # 2.x: `whoami` is a bound method of a module-level HfApi, imported by `_login` at
        # call time.
        hf_api.whoami = lambda token=None, **kw: whoami_answer(token)
