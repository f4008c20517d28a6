"""The reference fold: a portable session's decide and evolve in plain Python floats, the oracle for portability.

CPython floats are IEEE-754 doubles on every platform and each operator is one correctly rounded operation,
so what this module computes is the portable result by construction. It uses no numpy and no math module
on the folding path: the arithmetic is engine/scalar.py's (the twin of engine/arith.py and samplers.py),
the model's structure (which arrays, which shapes) and the events' parsing are the engine's, the raw
uniform doubles come from numpy's bit generator (their bits are the same everywhere). A session whose
digests this fold reproduces bit for bit folds the same on every machine; tests/engine/test_reference_fold.py
holds the engine's numpy fold to it.
"""

import hashlib
import json
import struct

import numpy as np

from engine import scalar as ra
from engine.events import ClassPaused, ClassResumed, FeedbackGiven, Iterated, SessionStarted
from engine.model import model_for
from engine.state import DIGEST_VERSION
from engine.thompson import BUTTONS

ACT = {"tanh": ra.tanh, "relu": lambda a: a if a > 0.0 else 0.0, "sigmoid": ra.sigmoid, "linear": lambda a: a}
SLOPE = {"tanh": lambda a, h: 1.0 - h * h, "relu": lambda a, h: 1.0 if a > 0.0 else 0.0,
         "sigmoid": lambda a, h: h * (1.0 - h), "linear": lambda a, h: 1.0}
FEATURES = {"x": lambda x, y: x, "y": lambda x, y: y, "x2": lambda x, y: x * x, "y2": lambda x, y: y * y,
            "xy": lambda x, y: x * y, "sinx": lambda x, y: ra.sinpi(x), "siny": lambda x, y: ra.sinpi(y)}


def uniforms(seed: int, seq: int):
    """The raw uniform doubles of the event at `seq`, one at a time (numpy's bit generator, portable)."""
    rng = np.random.default_rng([seed, seq])
    while True:
        yield float(rng.random())


# -- the model ------------------------------------------------------------------------------------------
def layers(settings, params: list) -> list:
    """[(W as rows, b)] from the flat vector, W_l (fan_in x fan_out) row-major, as engine.model stores it."""
    model = model_for(settings.features, settings.hidden, settings.activation, settings.arithmetic)
    arrays, start = [], 0
    for _, shape in model.shapes:
        size = shape[0] * shape[1] if len(shape) == 2 else shape[0]
        flat = params[start:start + size]
        arrays.append([flat[i * shape[1]:(i + 1) * shape[1]] for i in range(shape[0])] if len(shape) == 2 else flat)
        start += size
    return list(zip(arrays[::2], arrays[1::2]))


def affine(h: list, w: list, b: list) -> list:
    """h·W + b summed input by input in order, then the bias added (engine.model._affine)."""
    out = []
    for row in h:
        acc = [row[0] * w[0][o] for o in range(len(b))]
        for i in range(1, len(w)):
            acc = [acc[o] + row[i] * w[i][o] for o in range(len(b))]
        out.append([acc[o] + b[o] for o in range(len(b))])
    return out


def forward(settings, params, inputs):
    act = ACT[settings.activation]
    h, trace = inputs, []
    net = layers(settings, params)
    for w, b in net[:-1]:
        a = affine(h, w, b)
        h = [[act(v) for v in row] for row in a]
        trace.append((a, h))
    w, b = net[-1]
    return [row[0] for row in affine(h, w, b)], trace


def column_totals(rows: list) -> list:
    return [ra.total([row[k] for row in rows]) for k in range(len(rows[0]))]


def gradient(settings, params, inputs, labels):
    z, trace = forward(settings, params, inputs)
    error = [ra.sigmoid(zp) - yp for zp, yp in zip(z, labels)]
    n = len(error)
    net = layers(settings, params)
    below = [inputs] + [h for _, h in trace]
    grads = [None] * (2 * len(net))
    w_out = net[-1][0]
    grads[-2] = [[t / n] for t in column_totals([[e * v for v in row] for e, row in zip(error, below[-1])])]
    grads[-1] = [ra.total(error) / n]
    if trace:
        slope = SLOPE[settings.activation]
        a, h = trace[-1]
        delta = [[(e * w_out[j][0]) * slope(a[p][j], h[p][j]) for j in range(len(w_out))]
                 for p, e in enumerate(error)]
        for k in range(len(net) - 2, -1, -1):
            units_in = len(below[k][0])
            grads[2 * k] = [[ra.total([below[k][p][i] * delta[p][j] for p in range(n)]) / n
                             for j in range(len(delta[0]))] for i in range(units_in)]
            grads[2 * k + 1] = [t / n for t in column_totals(delta)]
            if k:
                w = net[k][0]
                transposed = [[w[i][j] for i in range(len(w))] for j in range(len(w[0]))]
                back = affine(delta, transposed, [0.0] * len(w))
                a, h = trace[k - 1]
                delta = [[back[p][i] * slope(a[p][i], h[p][i]) for i in range(len(w))] for p in range(n)]
    flat = []
    for g in grads:
        flat += [v for row in g for v in row] if g and isinstance(g[0], list) else list(g)
    return flat


def metrics(settings, params, data) -> tuple:
    """(loss, accuracy, score, test_loss, test_accuracy) as engine.metrics computes them."""
    def loss_accuracy(inputs, labels):
        z, _ = forward(settings, params, inputs)
        n = len(z)
        linear = ra.total([(zp if zp > 0.0 else 0.0) - yp * zp for zp, yp in zip(z, labels)])
        loss = (linear + ra.log1p_total([ra.exp(-abs(zp)) for zp in z])) / n
        return loss, sum((zp > 0) == (yp > 0.5) for zp, yp in zip(z, labels)) / n

    train, test = data["train"], data["test"]
    if not train[0]:
        return 0.0, 1.0, 1.0, None, None
    loss, accuracy = loss_accuracy(*train)
    held = loss_accuracy(*test) if test[0] else (None, None)
    return loss, accuracy, ra.exp(-loss), *held


# -- the state ------------------------------------------------------------------------------------------
def dataset(settings, points) -> dict:
    inputs = [[FEATURES[f](x, y) for f in settings.features] for x, y, _ in points]
    labels = [label for _, _, label in points]
    cut = len(points) - settings.n_test
    return {"points": points, "train": (inputs[:cut], labels[:cut]), "test": (inputs[cut:], labels[cut:])}


def data_digest(settings, separator, points) -> bytes:
    hasher = hashlib.sha256(json.dumps(settings.to_dict(), sort_keys=True).encode())
    hasher.update(struct.pack("<3d", *separator))
    hasher.update(struct.pack(f"<{2 * len(points)}d", *[v for x, y, _ in points for v in (x, y)]))
    hasher.update(struct.pack(f"<{len(points)}d", *[label for _, _, label in points]))
    return hasher.digest()


def digest(state: dict) -> str:
    """engine.state.state_digest of the same state, from its definition."""
    parts = [DIGEST_VERSION, state["data_digest"], struct.pack("<q", state["seq"]),
             struct.pack(f"<{len(state['params'])}d", *state["params"]),
             (state["last_button"] or "").encode().ljust(8, b"\x00")]
    learner = state["learner"]
    if learner is not None:
        alpha, beta = learner["alpha"], learner["beta"]
        parts.append(struct.pack(f"<{len(alpha)}d{len(beta)}dq", *alpha, *beta,
                                 -1 if learner["pending"] is None else learner["pending"]))
        for values in (learner["before"], None if learner["rating"] is None else [learner["rating"]]):
            parts.append(b"\x00" if values is None else b"\x01" + struct.pack(f"<{len(values)}d", *values))
    if state["record"]:  # a class record digests whether it is paused; every other session has no such byte
        parts.append(b"\x01" if state["paused"] else b"\x00")
    return hashlib.sha256(b"".join(parts)).hexdigest()


def start(event: SessionStarted) -> dict:
    s = event.settings
    state = {"settings": s, "seq": 1, "params": list(event.initial), "last_button": None,
             "data": dataset(s, event.points), "data_digest": data_digest(s, event.separator, event.points),
             "learner": None, "record": event.member is not None and event.member.role == "class", "paused": False}
    if s.learner == "thompson":
        arms = 2 * len(event.initial)
        state["learner"] = {"alpha": [s.prior] * arms, "beta": [s.prior] * arms, "pending": None,
                            "before": None, "rating": None, "before_score": None}
    state["metrics"] = metrics(s, state["params"], state["data"])
    return state


def evolve(state: dict | None, event) -> dict:
    if isinstance(event, SessionStarted):
        return start(event)
    s = state["settings"]
    new = {**state, "seq": state["seq"] + 1}
    if isinstance(event, (ClassPaused, ClassResumed)):
        assert state["record"] and state["paused"] != isinstance(event, ClassPaused), "only a class record pauses"
        return {**new, "paused": isinstance(event, ClassPaused)}
    if isinstance(event, Iterated) and state["learner"] is None:
        train = state["data"]["train"]
        grad = gradient(s, state["params"], *train) if train[0] else [0.0] * len(state["params"])
        new["params"] = [p - s.lr * g for p, g in zip(state["params"], grad)] if train[0] else state["params"]
    else:
        rating = BUTTONS[event.button] if isinstance(event, FeedbackGiven) else None
        new["learner"], new["params"] = evolve_learner(state, event.decision, rating)
        if isinstance(event, FeedbackGiven):
            new["last_button"] = event.button
    new["metrics"] = metrics(s, new["params"], state["data"])
    return new


def evolve_learner(state: dict, decision, rating):
    s, learner, params = state["settings"], state["learner"], state["params"]
    arms = model_for(s.features, s.hidden, s.activation, s.arithmetic).arms
    action = arms.index(decision.action)
    undo = decision.undone and learner["before"] is not None
    begin, begin_score = (learner["before"], learner["before_score"]) if undo else (params, state["metrics"][2])
    kept = learner["rating"] if decision.undone else (rating if rating is not None else learner["rating"])
    alpha, beta = learner["alpha"], learner["beta"]
    if decision.reward is not None and learner["pending"] is not None:
        alpha = [s.prior + s.discount * (a - s.prior) for a in alpha]
        beta = [s.prior + s.discount * (b - s.prior) for b in beta]
        alpha[learner["pending"]] += decision.reward
        beta[learner["pending"]] += 1.0 - decision.reward
    moved = list(begin)
    index, sign = divmod(action, 2)
    moved[index] = moved[index] + (s.step if sign == 0 else -s.step)
    return {"alpha": alpha, "beta": beta, "pending": action, "before": list(begin), "rating": kept,
            "before_score": begin_score}, moved


# -- decide ---------------------------------------------------------------------------------------------
def decided_draws(state: dict, event, seq: int) -> tuple:
    """(reward, undone, draws, action) that decide makes for this press, from the raw uniforms."""
    s, learner = state["settings"], state["learner"]
    if isinstance(event, FeedbackGiven):
        outcome, before, kind = BUTTONS[event.button], learner["rating"], "rating"
    else:
        outcome, before, kind = state["metrics"][2], learner["before_score"], "score"
    reward, undone = None, False
    if learner["pending"] is not None:
        reward = (1.0 if before is not None and outcome > before else 0.0) if kind == "score" else outcome
        undone = before is not None and outcome < before
    alpha, beta = learner["alpha"], learner["beta"]
    if reward is not None:
        alpha = [s.prior + s.discount * (a - s.prior) for a in alpha]
        beta = [s.prior + s.discount * (b - s.prior) for b in beta]
        alpha[learner["pending"]] += reward
        beta[learner["pending"]] += 1.0 - reward
    draws = ra.beta(uniforms(s.seed, seq), alpha, beta)
    arms = model_for(s.features, s.hidden, s.activation, s.arithmetic).arms
    return reward, undone, tuple(draws), arms[draws.index(max(draws))]


def drawn_start(settings) -> tuple:
    """(points, separator, initial) that decide draws for a session's start, from the raw uniforms."""
    us = uniforms(settings.seed, 1)
    n, kind = settings.points, settings.data
    square = lambda: [(ra.uniform(us, -1.0, 1.0), ra.uniform(us, -1.0, 1.0)) for _ in range(n)]  # noqa: E731
    if kind == "linear":
        turn, offset = ra.uniform(us, 0.0, 2.0), ra.uniform(us, -0.3, 0.3)
        a, b = ra.cospi(turn), ra.sinpi(turn)
        xy = square()
        red, separator = [x * a + y * b + offset > 0 for x, y in xy], (a, b, offset)
    elif kind in ("xor", "circle"):
        xy = square()
        from engine.dataset import RADIUS  # a constant, the same double everywhere
        red = [x * y > 0 for x, y in xy] if kind == "xor" else [x * x + y * y < RADIUS * RADIUS for x, y in xy]
        separator = (0.0, 0.0, 0.0) if kind == "xor" else (0.0, 0.0, RADIUS)
    elif kind == "gauss":
        red = [ra.uniform(us, 0.0, 1.0) < 0.5 for _ in range(n)]
        z = ra.gaussian(us, 2 * n)
        clip = lambda v: -1.0 if v < -1.0 else 1.0 if v > 1.0 else v  # noqa: E731
        xy = [tuple(clip((0.4 if r else -0.4) + 0.25 * z[2 * p + k]) for k in (0, 1)) for p, r in enumerate(red)]
        half = ra.sqrt(0.5)
        separator = (half, half, 0.0)
    elif kind.startswith("pg-"):
        return playground_start(settings, us)
    else:  # spiral
        red = [ra.uniform(us, 0.0, 1.0) < 0.5 for _ in range(n)]
        t = [ra.uniform(us, 0.0, 1.0) for _ in range(n)]
        xy = []
        for r, tp in zip(red, t):
            radius, turns = 0.05 + 0.9 * tp, 3.5 * tp + (1.0 if r else 0.0)
            xy.append((radius * ra.cospi(turns), radius * ra.sinpi(turns)))
        separator = (0.0, 0.0, 0.0)
    flips = [ra.uniform(us, 0.0, 1.0) < settings.noise for _ in range(n)]
    points = tuple((x, y, (0.0 if r else 1.0) if f else (1.0 if r else 0.0)) for (x, y), r, f in zip(xy, red, flips))
    return points, separator, _initial(settings, us)


def playground_start(settings, us) -> tuple:
    """engine/playground.py's rules, point by point, then the shuffle and the initial parameters."""
    n, kind, noise, sixth = settings.points, settings.data, settings.noise, 1.0 / 6.0
    red_n = n - n // 2
    jitter = lambda v, u: v + (-5.0 + 10.0 * u) * noise  # noqa: E731
    xy, red = [], []
    if kind in ("pg-circle", "pg-xor"):
        rows = [[ra.uniform(us, 0.0, 1.0) for _ in range(4)] for _ in range(n)]
        for p, (u0, u1, u2, u3) in enumerate(rows):
            if kind == "pg-circle":
                r = 2.5 * u0 if p < red_n else 3.5 + 1.5 * u0
                x, y = r * ra.sinpi(2.0 * u1), r * ra.cospi(2.0 * u1)
                jx, jy = jitter(x, u2), jitter(y, u3)
                red.append(jx * jx + jy * jy < 6.25)
            else:
                x, y = -5.0 + 10.0 * u0, -5.0 + 10.0 * u1
                x, y = x + (0.3 if x > 0.0 else -0.3), y + (0.3 if y > 0.0 else -0.3)
                red.append(jitter(x, u2) * jitter(y, u3) >= 0.0)
            xy.append((x, y))
        separator = (0.0, 0.0, 2.5 * sixth) if kind == "pg-circle" else (0.0, 0.0, 0.0)
    elif kind == "pg-gauss":
        sd = ra.sqrt(0.5 + 7.0 * noise)
        z = ra.gaussian(us, 2 * n)
        clip = lambda v: -6.0 if v < -6.0 else 6.0 if v > 6.0 else v  # noqa: E731
        for p in range(n):
            centre = 2.0 if p < red_n else -2.0
            xy.append((clip(centre + sd * z[2 * p]), clip(centre + sd * z[2 * p + 1])))
            red.append(p < red_n)
        half = ra.sqrt(0.5)
        separator = (half, half, 0.0)
    else:  # pg-spiral
        blue_n = n // 2
        for p in range(n):
            first = p < red_n
            i, m = (p, red_n) if first else (p - red_n, max(blue_n, 1))
            r = float(i) / float(m) * 5.0
            turns = 3.5 * (float(i) / float(m)) + (0.0 if first else 1.0)
            xy.append((r * ra.sinpi(turns), r * ra.cospi(turns)))
            red.append(first)
        jitters = [(ra.uniform(us, -1.0, 1.0), ra.uniform(us, -1.0, 1.0)) for _ in range(n)]
        xy = [(x + jx * noise, y + jy * noise) for (x, y), (jx, jy) in zip(xy, jitters)]
        separator = (0.0, 0.0, 0.0)
    order = list(range(n))
    shuffle = [ra.uniform(us, 0.0, 1.0) for _ in range(n - 1)] if n > 1 else []
    for k, i in enumerate(range(n - 1, 0, -1)):
        j = int(shuffle[k] * (i + 1))
        order[i], order[j] = order[j], order[i]
    points = tuple((xy[o][0] * sixth, xy[o][1] * sixth, 1.0 if red[o] else 0.0) for o in order)
    return points, separator, _initial(settings, us)


def _initial(settings, us) -> tuple:
    model = model_for(settings.features, settings.hidden, settings.activation, settings.arithmetic)
    if model.legacy:
        turn = ra.uniform(us, 0.0, 2.0)
        return (0.5 * ra.cospi(turn), 0.5 * ra.sinpi(turn), ra.uniform(us, -0.3, 0.3))
    initial = []
    for name, shape in model.shapes:
        if name.startswith("W"):
            limit = ra.sqrt(6.0 / (shape[0] + shape[1]))
            initial += [ra.uniform(us, -limit, limit) for _ in range(shape[0] * shape[1])]
        else:
            initial += [0.0] * shape[0]
    return tuple(initial)


def check(events) -> list[str]:
    """Fold `events` (parsed engine events) with this reference; the digest after each, in order. Raises
    AssertionError where a recorded decision (data set, initial parameters, draws) is not what the
    reference decides from the same raw uniforms."""
    state, digests = None, []
    for seq, event in enumerate(events, 1):
        if isinstance(event, SessionStarted):
            assert event.settings.arithmetic == "portable-1", "the reference folds portable sessions only"
            assert drawn_start(event.settings) == (event.points, event.separator, event.initial), "start differs"
        elif isinstance(event, (ClassPaused, ClassResumed)):
            pass  # decides nothing: no draw
        elif state["learner"] is not None:
            d = event.decision
            assert decided_draws(state, event, seq) == (d.reward, d.undone, d.draws, d.action), f"seq {seq}"
        state = evolve(state, event)
        digests.append(digest(state))
    return digests
