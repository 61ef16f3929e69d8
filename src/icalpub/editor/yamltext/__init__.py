"""Edit `events.yaml` as text: every byte outside the change stays as it was.

Three rooms: `document` reads the text into events, fields and versions;
`render` writes values as YAML every tool reads the same; `splice` changes an
event, the calendar settings or a topic and checks the result reads back.
"""

from .document import Document, EditError, Fields, Item, Value, content_end, read, read_bytes
from .render import normalize
from .splice import delete, insert, replace, set_calendar, set_topic

__all__ = [
    "Document",
    "EditError",
    "Fields",
    "Item",
    "Value",
    "content_end",
    "delete",
    "insert",
    "normalize",
    "read",
    "read_bytes",
    "replace",
    "set_calendar",
    "set_topic",
]
