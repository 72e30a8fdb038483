"""Builds the message catalogs: each ``symgrad/locale/*/LC_MESSAGES/symgrad.po`` is
compiled to the ``.mo`` file gettext reads, with Babel, whenever the package is built or
installed (an editable install compiles them beside the sources). Everything else about
the package is in pyproject.toml."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithCatalogs(build_py):
    def run(self) -> None:
        super().run()
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        targets = {Path(self.build_lib)}
        if getattr(self, "editable_mode", False):
            targets.add(Path(__file__).resolve().parent)
        for source in Path(__file__).resolve().parent.glob("symgrad/locale/*/LC_MESSAGES/*.po"):
            with source.open("rb") as handle:
                catalog = read_po(handle)
            relative = source.relative_to(Path(__file__).resolve().parent).with_suffix(".mo")
            for target in targets:
                (target / relative).parent.mkdir(parents=True, exist_ok=True)
                with (target / relative).open("wb") as handle:
                    write_mo(handle, catalog)


setup(cmdclass={"build_py": BuildWithCatalogs})
