"""``python -m zipkin_tracer``: the ``zipkin-tracer`` command line."""

from zipkin_tracer.cli import run

if __name__ == "__main__":
    run()
