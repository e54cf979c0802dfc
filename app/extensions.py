"""Unbound extension objects; `create_app` binds them with `init_app`."""

from flask_jwt_extended import JWTManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from app.core.api import OpenWearablesApi
from app.core.db import Base
from app.core.ratelimit import is_preflight, is_unlimited, new_limiter

# Not expired on commit: a response is built from what its own request committed, without
# reloading rows another worker may delete in between (a reload of a deleted row is a 500).
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
jwt = JWTManager()
api = OpenWearablesApi()
limiter = new_limiter()
limiter.request_filter(is_unlimited)
limiter.request_filter(is_preflight)
