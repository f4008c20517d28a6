"""The application layer: what both front ends (cli.py and web/) offer, as plain functions.

Plain values in and out (an open `store.EventLog`, strings, numbers, dicts); nnreplay's errors, each
naming the field it concerns where there is one; never prints. Rendering and the audit's machinery are
imported inside the functions that use them, so a press pays for neither.
"""

import numpy as _np

# a run that diverges overflows on its way to NaN: numpy's RuntimeWarnings would reach the terminal and the
# server's log as noise; the store refuses the non-finite state itself, with a sentence (store.recorder)
_np.seterr(all="ignore")

from service import budget  # noqa: E402
from service.audit import audit, count_events, sessions_to_audit  # noqa: E402
from service.copies import (check_target, export, export_to_file, fork, import_export, import_exports, read_export,
                            read_exports)
from service.history import (button_of, curve_table, curves, frame_track, held_out_curves, readable_curves,
                             replay_range, tracks)
from service.repress import plan as repress_plan, repress
from service.page import data_version, export_text, heads, metric_series, page_state, replay_gif
from service.sessions import (MAX_COUNT, PRESSES, SETTING_DEFAULTS, SETTINGS, check_at, check_count, check_hidden,
                              check_name_field,
                              check_new_session, check_press, commands, drawing, events, iter_events, list_sessions,
                              new_session, random_seed, record, record_once, recorded_digest, session_settings, settings_from, show, state_json)

__all__ = ["MAX_COUNT", "PRESSES", "SETTINGS", "SETTING_DEFAULTS", "audit", "budget", "check_hidden", "button_of", "check_at", "check_count",
           "check_name_field", "check_new_session", "check_press", "check_target", "commands", "count_events", "curve_table", "curves",
           "held_out_curves", "data_version", "drawing", "events", "export", "export_text", "export_to_file", "fork", "frame_track",
           "heads", "import_export", "import_exports", "iter_events", "list_sessions", "metric_series", "new_session", "page_state", "random_seed",
           "read_export", "read_exports", "readable_curves", "record", "record_once", "recorded_digest", "replay_gif", "replay_range", "repress", "repress_plan", "session_settings", "sessions_to_audit", "settings_from", "show",
           "state_json", "tracks"]
