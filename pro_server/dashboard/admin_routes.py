"""Users and sites, for admins (who see no participant data)."""

from flask.views import MethodView
from sqlalchemy import select

from pro_server.access import policy
from pro_server.api_blueprint import STAFF, ApiBlueprint
from pro_server.dashboard.schemas import (
    AdminSiteCreateSchema,
    AdminSiteSchema,
    AdminSiteUpdateSchema,
    AdminUserCreateSchema,
    AdminUserSchema,
    AdminUserUpdateSchema,
)
from pro_server.errors import NotFound
from pro_server.staff.models import StaffUser
from pro_server.staff.services import create_staff_user, update_staff_user
from pro_server.staff.signed_in import current_staff, staff_actor
from pro_server.studies.models import Site
from pro_server.studies.services import add_site, get_study, site_by_code, update_site
from pro_server.web import db_session, unit_of_work

blp = ApiBlueprint("admin", __name__, url_prefix="/api/v1/admin",
                   description="Staff accounts and sites (admins)", access=STAFF)


def _admin() -> StaffUser:
    user = current_staff()
    policy.require(user, policy.Capability.administer)
    return user


def _sites(body: dict) -> list[Site]:
    study = get_study(db_session(), body.pop("study_code", None))
    return [site_by_code(db_session(), study, code, field="site_codes")
            for code in body.pop("site_codes")]


@blp.route("/users")
class Users(MethodView):
    @blp.response(200, AdminUserSchema(many=True))
    def get(self):
        """Every staff account, active or not."""
        _admin()
        return db_session().scalars(select(StaffUser).order_by(StaffUser.email)).all()

    @blp.alt_response(409, description="A staff user with this email exists")
    @blp.arguments(AdminUserCreateSchema)
    @blp.response(201, AdminUserSchema)
    def post(self, body):
        """Create a staff account with an initial password (at least 12 characters)."""
        user = _admin()
        sites = _sites(body)
        with unit_of_work(staff_actor(user)) as ctx:
            return create_staff_user(ctx, email=body["email"], name=body["name"],
                                     password=body["password"], role=body["role"], sites=sites)


@blp.route("/users/<int:user_id>")
class UserById(MethodView):
    @blp.alt_response(409, description="An admin cannot deactivate or demote their own account")
    @blp.arguments(AdminUserUpdateSchema)
    @blp.response(200, AdminUserSchema)
    def patch(self, body, user_id):
        """Change name, role or sites, or deactivate (ends their sessions) or reactivate."""
        me = _admin()
        user = db_session().get(StaffUser, user_id)
        if user is None:
            raise NotFound("Staff user not found")
        if "site_codes" in body:
            body["sites"] = _sites(body)
        with unit_of_work(staff_actor(me)) as ctx:
            return update_staff_user(ctx, me, user, body)


@blp.route("/sites")
class Sites(MethodView):
    @blp.response(200, AdminSiteSchema(many=True))
    def get(self):
        """Every site of every study."""
        _admin()
        return db_session().scalars(select(Site).order_by(Site.study_id, Site.code)).all()

    @blp.alt_response(409, description="The study already has a site with this code")
    @blp.alt_response(404, description="No such study")
    @blp.arguments(AdminSiteCreateSchema)
    @blp.response(201, AdminSiteSchema)
    def post(self, body):
        """Add a site to a study (default: the only study)."""
        user = _admin()
        study = get_study(db_session(), body.pop("study_code", None))
        with unit_of_work(staff_actor(user)) as ctx:
            return add_site(ctx, study, body)


@blp.route("/sites/<int:site_id>")
class SiteById(MethodView):
    @blp.arguments(AdminSiteUpdateSchema)
    @blp.response(200, AdminSiteSchema)
    def patch(self, body, site_id):
        """Change a site's name, time zone or contact phone."""
        user = _admin()
        site = db_session().get(Site, site_id)
        if site is None:
            raise NotFound("Site not found")
        with unit_of_work(staff_actor(user)) as ctx:
            return update_site(ctx, site, body)
