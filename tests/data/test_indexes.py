"""A month of one user's data is one index range scan on PostgreSQL.

The tables are filled with a year of data for many users, analysed, and then the
exact SQL the endpoint sent is run under EXPLAIN ANALYZE: the plan must be a single
Index Scan of the (user_id, time, id) index, with no Sort, Seq Scan or Bitmap scan.
"""

import pytest
from sqlalchemy import event, text

from app.extensions import db
from tests.support.factories import create_user

FILL = """
INSERT INTO users (id, updated_at, created_at)
SELECT gen_random_uuid(), now(), now() FROM generate_series(1, :users);

INSERT INTO workouts (id, user_id, type, start_time, end_time, duration_seconds,
                      updated_at, created_at)
SELECT gen_random_uuid(), u.id, 'running', t, t + interval '40 minutes', 2400, now(), now()
FROM users u
CROSS JOIN generate_series(timestamptz '2025-09-01', timestamptz '2026-08-31',
                           interval '12 hours') AS t;

INSERT INTO timeseries_points (id, user_id, type, time, value)
SELECT gen_random_uuid(), u.id, kind, t, 60
FROM (SELECT id FROM users WHERE id <> :user_id ORDER BY id LIMIT 10) u
CROSS JOIN generate_series(timestamptz '2025-12-01', timestamptz '2026-05-31',
                           interval '1 hour') AS t
CROSS JOIN (VALUES ('heart_rate'), ('steps')) AS kinds(kind);

INSERT INTO timeseries_points (id, user_id, type, time, value)
SELECT gen_random_uuid(), :user_id, kind, t, 60
FROM generate_series(timestamptz '2025-12-01', timestamptz '2026-05-31',
                     interval '1 hour') AS t
CROSS JOIN (VALUES ('heart_rate'), ('steps')) AS kinds(kind);

ANALYZE users;
ANALYZE workouts;
ANALYZE timeseries_points;
"""


@pytest.fixture
def filled(app, client, admin_headers):
    user = create_user(client, admin_headers)
    with app.app_context():
        connection = db.session.connection()
        for statement in FILL.split(";"):
            if statement.strip():
                connection.execute(text(statement), {"users": 60, "user_id": user["id"]})
        db.session.commit()
    return user


def captured_select(app, table: str, send):
    """Run `send()` and return the SQL and parameters the app sent to read `table`."""
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().startswith("SELECT") and f"FROM {table}" in statement:
            seen.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = send()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200, response.get_json()
    (query,) = seen
    return query, response.get_json()


def plan_of(app, statement, parameters) -> dict:
    with app.app_context():
        connection = db.session.connection()
        (plan,) = connection.exec_driver_sql(
            "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters
        ).scalar()
        db.session.rollback()
    return plan["Plan"]


def nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


INDEX_READS = {"Index Scan", "Index Only Scan", "Bitmap Index Scan"}


def assert_one_index_range_scan(plan: dict, index: str, time_column: str) -> dict:
    """Exactly one node reads an index, it is `index` with user and time bounds as its
    condition, and no node reads a table sequentially. PostgreSQL may fetch the rows
    in index order (Index Scan) or in heap order and sort them (Bitmap Heap Scan +
    Sort) depending on how scattered they are; either reads only the range."""
    kinds = [node["Node Type"] for node in nodes(plan)]
    assert "Seq Scan" not in kinds, kinds
    scans = [node for node in nodes(plan) if node["Node Type"] in INDEX_READS]
    assert len(scans) == 1, kinds
    (scan,) = scans
    assert scan["Index Name"] == index
    assert "user_id =" in scan["Index Cond"]
    assert f"{time_column} >=" in scan["Index Cond"]
    return scan


def test_a_month_of_workouts_is_one_index_scan_and_so_is_the_next_page(
    app, client, admin_headers, filled
):
    url = f"/api/v1/users/{filled['id']}/events/workouts"
    query = {"start_date": "2026-03-01", "end_date": "2026-03-31", "limit": 40}
    index = "ix_workouts_user_id_start_time_id"

    (statement, parameters), first = captured_select(
        app, "workouts", lambda: client.get(url, query_string=query, headers=admin_headers)
    )
    scan = assert_one_index_range_scan(plan_of(app, statement, parameters), index, "start_time")
    assert scan["Actual Rows"] == 41  # a page and one more: nothing else is read

    next_page = query | {"cursor": first["pagination"]["next_cursor"]}
    (statement, parameters), second = captured_select(
        app, "workouts", lambda: client.get(url, query_string=next_page, headers=admin_headers)
    )
    scan = assert_one_index_range_scan(plan_of(app, statement, parameters), index, "start_time")
    assert "ROW(start_time, id) >" in scan["Index Cond"]  # starts where page one ended
    assert scan["Actual Rows"] == 22
    assert len(first["data"]) + len(second["data"]) == 62  # March, twice a day


def test_a_month_of_one_types_samples_is_one_index_scan(app, client, admin_headers, filled):
    url = f"/api/v1/users/{filled['id']}/timeseries"
    query = {
        "types": "heart_rate",
        "start_time": "2026-03-01T00:00:00Z",
        "end_time": "2026-03-31T23:59:59Z",
        "limit": 1000,
    }

    (statement, parameters), page = captured_select(
        app, "timeseries_points", lambda: client.get(url, query_string=query, headers=admin_headers)
    )

    assert len(page["data"]) == 744
    scan = assert_one_index_range_scan(
        plan_of(app, statement, parameters),
        "ix_timeseries_points_user_id_type_time_id",
        '"time"',
    )
    assert scan["Actual Rows"] == 744


def test_several_types_are_still_one_index_scan(app, client, admin_headers, filled):
    url = f"/api/v1/users/{filled['id']}/timeseries"
    query = {"start_time": "2026-03-01", "end_time": "2026-03-31", "limit": 1000}

    (statement, parameters), page = captured_select(
        app, "timeseries_points", lambda: client.get(url, query_string=query, headers=admin_headers)
    )

    assert len(page["data"]) == 1000
    scan = assert_one_index_range_scan(
        plan_of(app, statement, parameters),
        "ix_timeseries_points_user_id_type_time_id",
        '"time"',
    )
    assert scan["Actual Rows"] == 2 * 744  # only March's rows of this user
