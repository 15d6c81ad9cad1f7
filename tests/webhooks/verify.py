"""Verifies one Standard Webhooks message with the `standardwebhooks` package from PyPI, an
implementation independent of the gateway's own signer.

Reads {"secrets": [...], "headers": {...}, "body": "..."} as JSON on stdin. The message must carry
exactly one signature per secret, and each secret must verify it. Exits 0 when it does, 1 saying
what failed when it does not.
"""

import json
import sys

from standardwebhooks import Webhook, WebhookVerificationError


def main() -> int:
    message = json.load(sys.stdin)
    headers = message["headers"]
    body = message["body"]
    secrets = message["secrets"]
    signatures = headers.get("webhook-signature", "").split(" ")
    if len(signatures) != len(secrets):
        print(f"{len(signatures)} signatures for {len(secrets)} secrets", file=sys.stderr)
        return 1
    for number, secret in enumerate(secrets, start=1):
        try:
            Webhook(secret).verify(body, headers, json_parse=False)
        except WebhookVerificationError as error:
            print(f"secret {number}: {error}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
