"""pro_server: the ePRO platform's Flask service.

`create_app` is imported lazily so that the pure modules (scoring, schedule maths,
message planning) can be imported without pulling in Flask.
"""

from typing import Any


def create_app(*args: Any, **kwargs: Any) -> Any:
    from pro_server.app import create_app as _create_app

    return _create_app(*args, **kwargs)
