"""
Sphinx configuration: ``sphinx-build doc out`` builds these pages as HTML.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from txlb import __version__  # noqa: E402

project = "txlb"
author = "the txlb authors"
copyright = "the txlb authors, MIT licence"
version = release = __version__
root_doc = "index"
extensions = []
exclude_patterns = ["_build", "out"]
html_theme = "alabaster"
html_title = f"txlb {__version__}"
highlight_language = "none"
