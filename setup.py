"""The one build step pyproject.toml cannot declare: the web widget's bundles are built (esbuild,
from web_widget/src) before setuptools copies the package's files, so a wheel carries
web_widget/static/widget.js and widget-chat.js and a server needs no Node.js. The rest is in
pyproject.toml."""

import subprocess
import sys

from setuptools import setup  # type: ignore[import-untyped]
from setuptools.command.build_py import build_py  # type: ignore[import-untyped]


class BuildPyWithWidget(build_py):  # type: ignore[misc]
    def run(self) -> None:
        # Does nothing when the bundles are newer than their sources (an sdist that carries them).
        subprocess.run([sys.executable, "-m", "web_widget.build"], check=True)
        super().run()


setup(cmdclass={"build_py": BuildPyWithWidget})
