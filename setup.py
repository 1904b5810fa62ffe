"""The compiled part of the build (the contact builder); all else is in pyproject.toml."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "oneconnect_pipelines.client._contact_builder",
            ["oneconnect_pipelines/client/_contact_builder.pyx"],
        )
    ]
)
