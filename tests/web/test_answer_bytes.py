"""The states the server answers are Starlette's JSON to the byte, although their probability grids are
written from a table (web/jobs.py): for each grid size the page or a script may ask, at a press and at a
GET, the answer's bytes are exactly what json.dumps makes of the parsed answer."""

import json

import pytest


def canonical(answer) -> bytes:
    return json.dumps(answer.json(), ensure_ascii=False, allow_nan=False, indent=None,
                      separators=(",", ":")).encode("utf-8")


@pytest.mark.parametrize("grid", [2, 7, 48, 64])
def test_a_press_and_a_state_answer_json_dumps_bytes(client, grid):
    pressed = client.post(f"/api/sessions/grad/presses?grid={grid}&points=false&truth=false",
                          json={"press": "next"})
    assert pressed.status_code == 200
    assert len(pressed.json()["grid"]) == grid
    assert pressed.content == canonical(pressed)
    for query in (f"?grid={grid}", f"?grid={grid}&at=2", f"?grid={grid}&units=16"):
        shown = client.get(f"/api/sessions/th{query}")
        assert shown.status_code == 200
        assert shown.content == canonical(shown)
