"""webhook-harness: tests a webhook receiver as the Inference.net sender would.

The package holds the `webhook-harness` binary; `find_binary()` says where.
"""

import os
import sys
import sysconfig


def find_binary() -> str:
    """The path of the installed webhook-harness binary."""
    name = "webhook-harness" + (".exe" if sys.platform == "win32" else "")
    candidates = [sysconfig.get_path("scripts")]
    try:
        candidates.append(sysconfig.get_path("scripts", f"{os.name}_user"))
    except KeyError:  # no user scheme on this platform
        pass
    # pip install --target: the scripts sit in bin/ beside the package.
    candidates.append(os.path.join(os.path.dirname(os.path.dirname(__file__)), "bin"))
    for folder in candidates:
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(
        f"webhook-harness: the binary was not found in {', '.join(candidates)}; "
        "reinstall with `pip install --force-reinstall webhook-harness`"
    )
