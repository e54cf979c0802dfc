import uuid
from typing import Any

from flask.views import MethodView

from app.core.api import Blueprint
from app.core.auth import Kind, requires
from app.users import services
from app.users.models import User
from app.users.schemas import UserPageSchema, UserQuerySchema, UserSchema, UserWriteSchema

blp = Blueprint("users", __name__, url_prefix="/api/v1/users", description="End users.")


@blp.route("")
class Users(MethodView):
    @requires(Kind.DEVELOPER, Kind.API_KEY, scope="users:read")
    @blp.doc(operationId="listUsers")
    @blp.arguments(UserQuerySchema, location="query")
    @blp.response(200, UserPageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """List users, newest first, with optional search and exact filters."""
        return services.list_users(query)

    @requires(Kind.DEVELOPER, Kind.API_KEY, scope="users:write")
    @blp.doc(operationId="createUser")
    @blp.arguments(UserWriteSchema)
    @blp.response(201, UserSchema)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, fields: dict[str, Any]) -> User:
        """Create a user. `email` and `external_user_id` are unique when given."""
        return services.create_user(fields)


@blp.route("/<uuid:user_id>")
class UserById(MethodView):
    @requires(Kind.DEVELOPER, Kind.API_KEY, Kind.SDK, scope="users:read")
    @blp.doc(operationId="getUser")
    @blp.response(200, UserSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, user_id: uuid.UUID) -> User:
        """One user. An SDK token may read only its own user."""
        return services.get_user(user_id)

    @requires(Kind.DEVELOPER, Kind.API_KEY, scope="users:write")
    @blp.doc(operationId="updateUser")
    @blp.arguments(UserWriteSchema)
    @blp.response(200, UserSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, fields: dict[str, Any], user_id: uuid.UUID) -> User:
        """Change some of a user's fields."""
        return services.update_user(user_id, fields)

    @requires(Kind.DEVELOPER, Kind.API_KEY, scope="users:write")
    @blp.doc(operationId="deleteUser")
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, user_id: uuid.UUID) -> None:
        """Delete a user, its data and its SDK sessions."""
        services.delete_user(user_id)
