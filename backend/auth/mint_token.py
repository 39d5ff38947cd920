"""Developer command: print an HS256 token for a user id, signed with the configured secret.

python -m backend.auth.mint_token USER_ID [--minutes N]
"""

from __future__ import annotations

import argparse
import sys

from backend.auth.tokens import mint_token
from backend.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Mint a development token for USER_ID.")
    parser.add_argument("user_id", help="the token's `sub`: the {user_id} of the API paths")
    parser.add_argument("--minutes", type=int, default=60, help="lifetime (default 60)")
    args = parser.parse_args(argv)
    settings = Settings()
    if settings.better_auth_secret is None:
        parser.error("BETTER_AUTH_SECRET is not set: JWKS deployments mint tokens in Better Auth")
    token = mint_token(
        args.user_id,
        settings.better_auth_secret.get_secret_value().encode(),
        expires_in_seconds=args.minutes * 60,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )
    sys.stdout.write(token + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
