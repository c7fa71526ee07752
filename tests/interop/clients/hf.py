"""`hf` (huggingface_hub 2.x's CLI) with only the token validation replaced (fakehub)."""

import sys

import fakehub

fakehub.install()

from huggingface_hub.cli.hf import main  # noqa: E402

sys.argv[0] = "hf"
sys.exit(main())
