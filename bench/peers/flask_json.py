"""The Flask JSON endpoint of the python_asgi scenario's workers table:
GET /json -> {"message": "Hello, World!", "items": [...]} (application/json)."""
from flask import Flask, jsonify

app = Flask(__name__)
ITEMS = [{"id": i, "name": f"item {i}"} for i in range(10)]


@app.get("/json")
def json_endpoint():
    return jsonify(message="Hello, World!", items=ITEMS)
