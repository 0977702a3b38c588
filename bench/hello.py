"""The baseline of bench/pages.py: a bare Litestar app with one plain-text route, served by
the same uvicorn with the same flags as the app, in the same run."""

from litestar import Litestar, get


@get("/hello", sync_to_thread=False)
def hello() -> str:
    return "hello"


app = Litestar([hello])
