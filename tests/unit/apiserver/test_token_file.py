"""Static tokens: replacing a user's token revokes the old one at once."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from kubelite.apiserver.auth import TokenFile


def test_replace_user_revokes_the_old_token_and_keeps_other_users(tmp_path: Path) -> None:
    tokens = TokenFile(tmp_path / "server" / "tokens.csv")
    tokens.add("admin-token-0123456789", "admin", "", ["system:masters"])
    tokens.replace_user("old-node-token-0123456789", "kubelite:node", "", ["system:nodes"])
    assert tokens.lookup("old-node-token-0123456789") is not None
    tokens.replace_user("new-node-token-0123456789", "kubelite:node", "", ["system:nodes"])
    assert tokens.lookup("old-node-token-0123456789") is None  # no wait for the re-read
    user = tokens.lookup("new-node-token-0123456789")
    assert user is not None and user.groups == ("system:nodes",)
    assert tokens.lookup("admin-token-0123456789") is not None
    assert stat.S_IMODE(os.stat(tokens.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tokens.path.parent).st_mode) == 0o700
