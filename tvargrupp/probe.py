"""A health probe for containers that have no curl: exit 0 if the URL answers 200.

    python -m tvargrupp.probe http://127.0.0.1:8000/readyz

It sends the first of ALLOWED_HOSTS as the Host header, so Django accepts it.
"""

import os
import sys
import urllib.error
import urllib.request


def main(url: str) -> int:
    if not url.startswith(("http://", "https://")):
        print(f"{url}: only http:// and https:// URLs are probed")
        return 2
    host = (os.environ.get("ALLOWED_HOSTS") or "localhost").split(",")[0].strip().lstrip(".")
    if host in ("", "*"):
        host = "localhost"
    request = urllib.request.Request(url, headers={"Host": host})  # noqa: S310
    try:
        # The scheme is checked above; the URL is the container's own.
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 # nosec B310
            print(response.read(2000).decode("utf-8", "replace"))
            return 0 if response.status == 200 else 1
    except urllib.error.HTTPError as error:
        print(error.read(2000).decode("utf-8", "replace"))
        return 1
    except OSError as error:
        print(f"{url}: {error}")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000/readyz"))
