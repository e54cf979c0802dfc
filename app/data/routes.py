import uuid
from typing import Any

from flask.views import MethodView

from app.core.api import Blueprint
from app.core.auth import Kind, requires
from app.data import services
from app.data.schemas import (
    TimeSeriesBatchResultSchema,
    TimeSeriesBatchSchema,
    TimeSeriesPageSchema,
    TimeSeriesQuerySchema,
    WorkoutBatchResultSchema,
    WorkoutBatchSchema,
    WorkoutPageSchema,
    WorkoutQuerySchema,
)

blp = Blueprint(
    "data",
    __name__,
    url_prefix="/api/v1/users",
    description="Wearable data: workouts and health time series of one user. API keys, "
    "developer tokens, and the user's own SDK token.",
)

DATA_CALLERS = (Kind.DEVELOPER, Kind.API_KEY, Kind.SDK)


@blp.route("/<uuid:user_id>/events/workouts")
class Workouts(MethodView):
    @requires(*DATA_CALLERS, scope="data:read")
    @blp.doc(operationId="listWorkouts")
    @blp.arguments(WorkoutQuerySchema, location="query")
    @blp.response(200, WorkoutPageSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, query: dict[str, Any], user_id: uuid.UUID) -> dict[str, Any]:
        """Workouts that start between `start_date` and `end_date`, oldest first."""
        return services.list_workouts(user_id, query["range"], query.get("cursor"), query["limit"])

    @requires(*DATA_CALLERS, scope="data:write")
    @blp.doc(operationId="createWorkouts")
    @blp.arguments(WorkoutBatchSchema)
    @blp.response(200, WorkoutBatchResultSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, batch: dict[str, Any], user_id: uuid.UUID) -> dict[str, Any]:
        """Store workouts; one whose `external_id` is known replaces the stored one."""
        return services.store_workouts(user_id, batch["data"])


@blp.route("/<uuid:user_id>/events/workouts/<uuid:workout_id>")
class WorkoutById(MethodView):
    @requires(*DATA_CALLERS, scope="data:write")
    @blp.doc(operationId="deleteWorkout")
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, user_id: uuid.UUID, workout_id: uuid.UUID) -> None:
        """Delete one workout."""
        services.delete_workout(user_id, workout_id)


@blp.route("/<uuid:user_id>/timeseries")
class TimeSeries(MethodView):
    @requires(*DATA_CALLERS, scope="data:read")
    @blp.doc(operationId="listTimeSeries")
    @blp.arguments(TimeSeriesQuerySchema, location="query")
    @blp.response(200, TimeSeriesPageSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, query: dict[str, Any], user_id: uuid.UUID) -> dict[str, Any]:
        """Samples between `start_time` and `end_time`, oldest first."""
        return services.list_timeseries(
            user_id, query["types"], query["range"], query.get("cursor"), query["limit"]
        )

    @requires(*DATA_CALLERS, scope="data:write")
    @blp.doc(operationId="createTimeSeries")
    @blp.arguments(TimeSeriesBatchSchema)
    @blp.response(200, TimeSeriesBatchResultSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, batch: dict[str, Any], user_id: uuid.UUID) -> dict[str, Any]:
        """Store samples; one of the same type and time replaces the stored one."""
        return services.store_timeseries(user_id, batch["data"])
