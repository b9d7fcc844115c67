"""Only for ``scrapyd-deploy``: everything is declared in ``pyproject.toml``, which setuptools
(61 or later) reads from here too.

scrapyd-deploy builds the egg it uploads with ``python setup.py clean -a bdist_egg`` and, where
a project has no ``setup.py``, writes one of its own and leaves it behind: an untracked file in
the checkout that ``make lint`` fails on. Scrapyd finds the settings module through the
``scrapy`` entry point, declared in ``pyproject.toml``.
"""

from setuptools import setup

setup()
