"""`python -m webhook_harness ARGS`: runs the binary with ARGS."""

import os
import subprocess
import sys

from webhook_harness import find_binary


def main() -> int:
    binary = find_binary()
    if sys.platform == "win32":
        return subprocess.call([binary, *sys.argv[1:]])
    # Replace this process, so that signals and the exit code are the binary's.
    os.execv(binary, [binary, *sys.argv[1:]])
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(main())
