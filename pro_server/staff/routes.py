"""Staff sign-in: CSRF token, login (rate-limited on failures), logout, who am I."""

from flask import session
from flask.views import MethodView
from flask_wtf.csrf import generate_csrf

from pro_server.api_blueprint import STAFF, ApiBlueprint
from pro_server.context import Actor
from pro_server.errors import Forbidden, Unauthorized
from pro_server.extensions import limiter
from pro_server.staff import security, services
from pro_server.staff.schemas import CsrfSchema, LoginSchema, StaffUserSchema
from pro_server.staff.signed_in import current_staff, staff_actor
from pro_server.web import settings, unit_of_work

blp = ApiBlueprint("auth", __name__, url_prefix="/api/v1/auth", description="Staff sign-in",
                   access=STAFF.with_open("Csrf", "Login"))


def _me(user) -> dict:
    with unit_of_work(staff_actor(user)) as ctx:
        must = security.restriction(ctx, user)
    return {"id": user.id, "email": user.email, "name": user.name, "role": user.role,
            "sites": user.sites, "csrf_token": generate_csrf(), "must": must,
            "second_factor": user.totp_enabled_at is not None}


def _login_limit() -> str:
    return settings().login_rate_limit


@blp.route("/csrf")
class Csrf(MethodView):
    @blp.response(200, CsrfSchema)
    def get(self):
        """A CSRF token to send as X-CSRFToken on every state-changing request."""
        return {"csrf_token": generate_csrf()}


@blp.route("/login")
class Login(MethodView):
    decorators = (limiter.limit(_login_limit, deduct_when=lambda r: r.status_code == 401),)

    @blp.alt_response(429, description="Too many failed sign-ins from this address")
    @blp.alt_response(401, description="Email or password is wrong")
    @blp.arguments(LoginSchema)
    @blp.response(200, StaffUserSchema)
    def post(self, body):
        """Sign in with email, password and (when set up) the authenticator code; sets the
        HttpOnly session cookie. `must` in the answer names a step required first."""
        with unit_of_work(Actor(type="anonymous", label=body["email"].lower())) as ctx:
            outcome = security.sign_in(ctx, body["email"], body["password"], body.get("code"))
        user = outcome.user
        if outcome.problem is security.Problem.locked:
            raise Forbidden("This account is locked after repeated failed attempts; ask an "
                            "admin to unlock it")
        if outcome.problem is security.Problem.code_required:
            raise Unauthorized("Enter the code from your authenticator app",
                               {"json": {"code": ["Required for this account"]}})
        if user is None:
            raise Unauthorized("Email, password or code is wrong")
        session.clear()
        session["staff"] = {"id": user.id, "v": user.session_version}
        session.permanent = True
        return _me(user)


@blp.route("/logout")
class Logout(MethodView):
    @blp.response(204)
    def post(self):
        """Sign out here and end this user's sessions everywhere."""
        user = current_staff()
        with unit_of_work(staff_actor(user)) as ctx:
            services.logout_everywhere(ctx, user)
        session.clear()


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, StaffUserSchema)
    def get(self):
        """The signed-in staff user and their sites."""
        return _me(current_staff())
