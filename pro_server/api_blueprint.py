"""flask-smorest's Blueprint that knows who may call it: it checks that first, and says so
in the OpenAPI document.

Authenticating before the route's arguments are parsed means an anonymous caller gets the
same 401 whatever it sends: no 422 that teaches it the parameters, no 404 that tells it an id
exists. The same declaration documents each operation's security schemes and the error
statuses every operation of its kind can answer, so the document and the behaviour agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Request
from flask_smorest import Blueprint
from webargs.flaskparser import FlaskParser, is_json_request

from pro_server import web
from pro_server.errors import Unauthorized
from pro_server.request_input import UNCHECKED, checked_json

UNSAFE = ("post", "put", "patch", "delete")
SECURITY_SCHEMES: dict[str, dict[str, str]] = {
    "staffSession": {
        "type": "apiKey", "in": "cookie", "name": "pro_session",
        "description": "The staff session cookie set by POST /api/v1/auth/login. In the "
                       "docs page: sign in (Try it out on /auth/login), then call as usual.",
    },
    "csrfToken": {
        "type": "apiKey", "in": "header", "name": "X-CSRFToken",
        "description": "Needed with a session cookie on every POST, PUT, PATCH and DELETE: "
                       "the csrf_token from /auth/login, /auth/me or /auth/csrf.",
    },
    "participantSession": {
        "type": "apiKey", "in": "cookie", "name": "pro_session",
        "description": "The participant session cookie set by POST /api/v1/p/session.",
    },
    "edcBearer": {
        "type": "http", "scheme": "bearer",
        "description": "An EDC client's token (admin: POST /api/v1/edc/clients).",
    },
}


API_DESCRIPTION = """\
The ePRO platform's API: participants' own surveys (`/p`), staff work on participants,
schedules, messages and the dashboard (each coordinator sees their own site), and scored
data for EDC systems (`/edc`, bearer tokens).

**Signing in.** Staff: `POST /api/v1/auth/login` sets an HttpOnly session cookie and returns a
`csrf_token`; send it as the `X-CSRFToken` header on every POST, PUT, PATCH and DELETE. In this
page, sign in through *Try it out* on `/auth/login`, then paste the token under *Authorize* as
csrfToken. EDC clients send `Authorization: Bearer <token>`; a bearer header that is not a
valid token is refused (401), whatever cookie comes with it. Participants open a session from
their link with `POST /api/v1/p/session`.

**Errors.** Every error is JSON with `code`, `status` and `message`; a refused value also has
`errors`, mapping where it came from (`json`, `query`, `form`) to each field's messages. An
anonymous caller gets 401 before anything it sent is judged. Ids in paths are positive 32-bit
integers: any other id is 404. JSON bodies with a key given twice, nesting deeper than 32,
or integers outside 64 bits are 400; text with control or text-direction characters is 422.
"""


def document_security_schemes(api: Any) -> None:
    for name, scheme in SECURITY_SCHEMES.items():
        api.spec.components.security_scheme(name, scheme)


@dataclass(frozen=True)
class Access:
    """Who may call a blueprint's operations, how that is checked, and how it is documented."""

    name: str
    authenticate: Callable[[], Any] | None
    schemes: tuple[tuple[str, ...], ...] = ()  # alternatives; each a set of schemes together
    cookie: bool = False  # cookie-authenticated: unsafe methods also need the CSRF header
    errors: tuple[int, ...] = (401,)
    open_endpoints: frozenset[str] = field(default_factory=frozenset)

    def security(self, method: str) -> list[dict[str, list]]:
        alternatives: list[dict[str, list]] = []
        for schemes in self.schemes:
            names = list(schemes)
            if self.cookie and method in UNSAFE and names[0].endswith("Session"):
                names.append("csrfToken")
            alternatives.append({name: [] for name in names})
        return alternatives

    def with_open(self, *endpoints: str) -> Access:
        """The same access, with endpoints (MethodView class names) anyone may call."""
        return Access(self.name, self.authenticate, self.schemes, self.cookie, self.errors,
                      frozenset(endpoints))


def _bearer_client() -> None:
    if web.bearer_actor() is None:
        raise Unauthorized("Send Authorization: Bearer <token> of an active EDC client")


PUBLIC = Access("public", None)
STAFF = Access("staff", web.session_actor, (("staffSession",),), cookie=True,
               errors=(401, 403))
STAFF_OR_CLIENT = Access("staff or EDC client", web.current_actor,
                         (("staffSession",), ("edcBearer",)), cookie=True, errors=(401, 403))
EDC_CLIENT = Access("EDC client", _bearer_client, (("edcBearer",),), errors=(401, 403))


class _Parser(FlaskParser):
    """webargs' parser, reading a JSON body from its one parse: the input check's
    (`request_input`), which every request passes before a route reads its arguments; and
    reading the request itself (webargs' hook for a framework's thread-local request)."""

    def get_default_request(self) -> Request:
        """The request itself, not Flask's proxy of it: webargs reads it several times."""
        return web.current_request()

    def _raw_load_json(self, req: Request) -> Any:
        document = checked_json(req) if is_json_request(req) else UNCHECKED
        return super()._raw_load_json(req) if document is UNCHECKED else document


class ApiBlueprint(Blueprint):
    ARGUMENTS_PARSER = _Parser()

    def __init__(self, *args: Any, access: Access, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.access = access
        self._with_path_ids: set[str] = set()
        self._prepare_doc_cbks.append(self._prepare_access_doc)
        if access.authenticate is not None:
            self.before_request(self._authenticate_first)

    def arguments(self, schema: Any, *args: Any, **kwargs: Any) -> Callable[..., Any]:
        """flask-smorest's `arguments`, with a schema class made an instance here, once:
        webargs would build an instance of the class on every request."""
        return super().arguments(schema() if isinstance(schema, type) else schema,
                                 *args, **kwargs)

    def alt_response(self, *args: Any, **kwargs: Any) -> Callable[..., Any]:
        """flask-smorest's `alt_response`, documenting the view without wrapping it: its
        wrapper only calls the view (through `current_app.ensure_sync`), in every request.
        The view is given the documentation the wrapper was given, so the OpenAPI document
        is the same."""
        document = super().alt_response(*args, **kwargs)

        def decorator(func: Any) -> Any:
            func._apidoc = document(func)._apidoc
            return func

        return decorator

    def _authenticate_first(self) -> None:
        endpoint = (web.current_request().endpoint or "").rpartition(".")[2]
        authenticate = self.access.authenticate
        if authenticate is not None and endpoint not in self.access.open_endpoints:
            authenticate()

    def add_url_rule(self, rule: str, endpoint: str | None = None, view_func: Any = None,
                     *args: Any, **kwargs: Any) -> None:
        super().add_url_rule(rule, endpoint, view_func, *args, **kwargs)
        last = self._endpoints[-1]
        for method, info in self._docs[last].items():
            if method != "parameters":
                info["pro_access"] = {"endpoint": getattr(view_func, "__name__", last),
                                      "path_params": "<" in rule}

    def _prepare_access_doc(self, doc: dict, doc_info: dict, *, method: str,
                            **_: Any) -> dict:
        where = doc_info.pop("pro_access", {})
        responses = doc.setdefault("responses", {})
        is_open = where.get("endpoint") in self.access.open_endpoints
        if not is_open:
            doc["security"] = self.access.security(method)
            for status in self.access.errors:
                responses.setdefault(status, _ref(status))
        else:
            doc["security"] = []
        if where.get("path_params") or _filters_by_study(doc):
            responses.setdefault(404, _ref(404))  # an unknown id, or an unknown ?study=
        if method in UNSAFE:
            # malformed or ambiguous JSON, or (with a cookie) a missing CSRF token
            responses.setdefault(400, _ref(400))
            responses.setdefault(422, _ref(422))
        return doc


def _filters_by_study(doc: dict) -> bool:
    """Whether the operation's query names a study by code (an unknown one is 404)."""
    for param in doc.get("parameters", []):
        schema = param.get("schema") if isinstance(param, dict) else None
        if param.get("in") == "query" and schema is not None:
            instance = schema() if isinstance(schema, type) else schema
            if "study" in getattr(instance, "fields", {}):
                return True
    return False


def _ref(status: int) -> str:
    from http import HTTPStatus

    return HTTPStatus(status).name
