import os

import psycopg
from fastapi import FastAPI, HTTPException

app = FastAPI(title="users")


def connect() -> psycopg.Connection:
    return psycopg.connect(os.environ["DATABASE_URL"])


@app.get("/healthz")
def healthz() -> dict:
    return {"ok": True}


@app.get("/users/{user_id}")
def get_user(user_id: int) -> dict:
    with connect() as conn:
        row = conn.execute("SELECT id, email FROM users WHERE id = %s", (user_id,)).fetchone()
    if row is None:
        raise HTTPException(status_code=404, detail="no such user")
    return {"id": row[0], "email": row[1]}
