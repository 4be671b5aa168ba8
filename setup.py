"""Packaging for the Zipkin tracer.

The OpenTracing API in ``opentracing/`` is its own distribution (named
``opentracing``, built by ``opentracing/pyproject.toml``), so libraries that depend on
``opentracing`` share it with the tracer instead of overwriting its files.
"""

import os
import re
import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
IDL = os.path.join("thrift", "zipkinCore.thrift")


def read(*parts):
    with open(os.path.join(HERE, *parts), encoding="utf-8") as f:
        return f.read()


VERSION = re.search(r'^__version__ = "([^"]+)"', read("zipkin_tracer", "__init__.py"), re.M).group(1)


class BuildPyWithIdl(build_py):
    """Ship thrift/zipkinCore.thrift inside zipkin_tracer.encoding.

    The IDL lives at the top of the repository (it is Zipkin's model, not
    Python code); installed copies find it next to the Thrift encoder.
    """

    def run(self):
        super().run()
        target = os.path.join(self.build_lib, "zipkin_tracer", "encoding")
        if os.path.isdir(target):
            shutil.copy(os.path.join(HERE, IDL), target)


setup(
    name="zipkin-opentracing",
    version=VERSION,
    description="A Zipkin tracer for the OpenTracing API (B3, Thrift v1 and JSON v2)",
    long_description=read("README.rst"),
    long_description_content_type="text/x-rst",
    license="Apache-2.0",
    python_requires=">=3.9",
    packages=find_packages(include=["zipkin_tracer", "zipkin_tracer.*"]),
    package_data={"zipkin_tracer": ["py.typed"]},
    include_package_data=False,
    zip_safe=False,
    cmdclass={"build_py": BuildPyWithIdl},
    entry_points={"console_scripts": ["zipkin-tracer = zipkin_tracer.cli:run"]},
    install_requires=[
        # Ours (opentracing/) or PyPI's 2.4.0: the tracer runs on both.
        "opentracing>=2.4,<3",
        "requests>=2.25,<3",
        # The sender's connection kit overrides urllib3 2.x internals.
        "urllib3>=2,<3",
        "thriftpy2>=0.4.16,<0.8",
    ],
    extras_require={
        "test": [
            "pytest>=7",
            "responses>=0.23",
            "hypothesis>=6",
            "py_zipkin>=1.2,<2",
            "ruff>=0.5",
            "mypy>=1.8",
            "types-requests",
            "build",
            "flask>=2",
            "django>=4.2",
            "sphinx>=7",
            "pyyaml",
            "basictracer==3.2.0",
            # basictracer's generated protobuf code needs the pure-Python
            # protobuf runtime (tests/conftest.py selects it).
            "protobuf",
            # protoc, to compile proto/zipkin.proto for the proto3 writer's tests
            "grpcio-tools",
            # the Kafka sender and the consumers that check the topic
            "confluent-kafka>=2.3,<3",
            "gevent",
            "tornado>=6",
            # interop tests: a real OpenTelemetry service in another process
            "opentelemetry-sdk>=1.20",
            "opentelemetry-exporter-zipkin-json>=1.20",
            "opentelemetry-propagator-b3>=1.20",
            "opentelemetry-instrumentation-wsgi>=0.41b0",
            "opentelemetry-instrumentation-requests>=0.41b0",
            "tox>=4",
            # the async integrations and the real servers their tests run
            "httpx>=0.24",
            "aiohttp>=3.8",
            "starlette>=0.27",
            "fastapi>=0.100",
            "uvicorn>=0.23",
            "django>=4.2",
        ],
        # The Kafka sender's client (a wheel bundling librdkafka).
        "kafka": ["confluent-kafka>=2.3,<3"],
        # Optional integrations: each module imports its framework lazily.
        "asgi": [],
        "httpx": ["httpx>=0.24"],
        "aiohttp": ["aiohttp>=3.8"],
        "bench": [
            "jaeger-client==4.8.0",
            "py_zipkin>=1.2,<2",
            "confluent-kafka>=2.3,<3",
            "opentelemetry-sdk>=1.20",
            "opentelemetry-exporter-zipkin-json>=1.20",
            "psutil>=5",
            "tornado>=6,<7",
        ],
    },
    classifiers=[
        "Development Status :: 3 - Alpha",
        "Intended Audience :: Developers",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3 :: Only",
        "Programming Language :: Python :: 3.9",
        "Programming Language :: Python :: 3.10",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Programming Language :: Python :: 3.13",
        "Topic :: System :: Monitoring",
        "Typing :: Typed",
    ],
)
