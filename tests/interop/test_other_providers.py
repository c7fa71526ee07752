"""Credentials of other tools next to the Hub's: each real client still gets the credential
it had before the fix (issue 12, "Done when").

Client facts (botocore 1.44.8): `credentials.SharedCredentialProvider` reads
`~/.aws/credentials` (`AWS_SHARED_CREDENTIALS_FILE`), profile `default`, after the
environment and before the config file and instance metadata."""

import pytest

import json
import secrets
import string

from home import Checks

BOTO = (
    "import json, botocore.session; c = botocore.session.get_session().get_credentials();"
    " print(json.dumps(c and [c.access_key, c.secret_key, c.method]))"
)


@pytest.mark.matrix('AWS credentials file read by botocore', 'botocore')
def test_botocore_keeps_reading_its_credentials_file(home):
    key_id = home.secret("AKIA" + "".join(secrets.choice(string.ascii_uppercase + "234567") for _ in range(16)))
    secret = home.secret("".join(secrets.choice(string.ascii_letters + string.digits + "/+") for _ in range(40)))
    # Written the way `aws configure` of old left it: umask 022, folder 0755.
    home.write(".aws/credentials", f"[default]\naws_access_key_id = {key_id}\n"
                                   f"aws_secret_access_key = {secret}\n")
    home.write(".aws/config", "[default]\nregion = eu-west-1\n")
    env = {"AWS_EC2_METADATA_DISABLED": "true"}
    assert json.loads(home.value(BOTO, env=env)) == [key_id, secret, "shared-credentials-file"]
    before = home.snapshot()

    r = home.fix()

    c = Checks(home)
    c.same(oct(home.mode(".aws/credentials")), oct(0o600), "the credentials file's mode")
    c.same(oct(home.mode(".aws")), oct(0o700), "the .aws folder's mode")
    c.same(json.loads(home.value(BOTO, env=env) or "null"), [key_id, secret, "shared-credentials-file"],
           "what botocore reads")
    c.same(r.code, 0, "fix --all's exit status")
    c.done()

    home.undo_all()
    home.assert_restored(before)
