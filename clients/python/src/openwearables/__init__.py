"""Typed Python client for the Open Wearables API.

`OpenWearables(base_url, api_key=...)` on servers, `OpenWearables.login(...)` in admin
scripts, and `SdkSession` for one end user's data with automatic token refresh.
"""

from openwearables._version import __version__
from openwearables.client import OpenWearables, SdkSession
from openwearables.errors import (
    ApiError,
    Conflict,
    Forbidden,
    NotFound,
    OpenWearablesError,
    RateLimited,
    SessionExpired,
    Unauthorized,
    ValidationError,
)
from openwearables.inputs import Instant, Moment, NewSample, NewWorkout
from openwearables.models import (
    ApiKey,
    Application,
    Introspection,
    NewApiKey,
    NewApplication,
    TimeSeriesPoint,
    TokenPair,
    Usage,
    UsageBucket,
    User,
    Workout,
    WorkoutBatchResult,
    WorkoutSource,
)

__all__ = [
    "ApiError",
    "ApiKey",
    "Application",
    "Conflict",
    "Forbidden",
    "Instant",
    "Introspection",
    "Moment",
    "NewApiKey",
    "NewApplication",
    "NewSample",
    "NewWorkout",
    "NotFound",
    "OpenWearables",
    "OpenWearablesError",
    "RateLimited",
    "SdkSession",
    "SessionExpired",
    "TimeSeriesPoint",
    "TokenPair",
    "Unauthorized",
    "Usage",
    "UsageBucket",
    "User",
    "ValidationError",
    "Workout",
    "WorkoutBatchResult",
    "WorkoutSource",
    "__version__",
]
