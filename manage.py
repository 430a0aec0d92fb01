#!/usr/bin/env python
"""Django's command-line utility for Warung CRM."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
# `platform/` is a source root, never a package: see README "Layout".
for source_root in (ROOT, ROOT / "platform"):
    if str(source_root) not in sys.path:
        sys.path.insert(0, str(source_root))


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
