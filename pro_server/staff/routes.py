"""Staff sign-in: CSRF token, login (rate-limited on failures), logout, who am I, and the
account's own password change (the only thing a session may do while one is required)."""

from flask import session
from flask.views import MethodView
from flask_smorest import Blueprint
from flask_wtf.csrf import generate_csrf

from pro_server.context import Actor
from pro_server.errors import Unauthorized
from pro_server.extensions import limiter
from pro_server.staff import services
from pro_server.staff.schemas import (
    CsrfSchema,
    LoginSchema,
    PasswordChangeSchema,
    StaffUserSchema,
)
from pro_server.web import current_staff, settings, staff_actor, unit_of_work

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Staff sign-in")


def _me(user) -> dict:
    return {"id": user.id, "email": user.email, "name": user.name, "role": user.role,
            "sites": user.sites, "must_change_password": user.must_change_password,
            "csrf_token": generate_csrf()}


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

    @blp.arguments(LoginSchema)
    @blp.response(200, StaffUserSchema)
    def post(self, body):
        """Sign in with email and password; sets the HttpOnly session cookie."""
        with unit_of_work(Actor(type="anonymous", label=body["email"].lower())) as ctx:
            user = services.authenticate(ctx, body["email"], body["password"])
        if user is None:
            raise Unauthorized("Email or password is wrong")
        _start_session(user)
        return _me(user)


def _start_session(user) -> None:
    session.clear()
    session["staff"] = {"id": user.id, "v": user.session_version}
    session.permanent = True


@blp.route("/password")
class Password(MethodView):
    decorators = (limiter.limit(_login_limit, deduct_when=lambda r: r.status_code == 422),)

    @blp.arguments(PasswordChangeSchema)
    @blp.response(200, StaffUserSchema)
    def post(self, body):
        """Change your own password (at least 12 characters, not easy to guess); ends your
        other sessions. Required first when `must_change_password` is true."""
        user = current_staff()
        with unit_of_work(staff_actor(user)) as ctx:
            services.change_password(ctx, user, body["current_password"], body["new_password"])
        _start_session(user)
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
