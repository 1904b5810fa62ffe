"""The compiled part of the build (the contact builder); all else is in pyproject.toml.

Optional: where it cannot be compiled (no C compiler), the install goes on and contacts
are built by the pure-Python reference, with several times the CPU.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "oneconnect_pipelines.client._contact_builder",
            ["oneconnect_pipelines/client/_contact_builder.pyx"],
            optional=True,
        )
    ]
)
