"""The web editor of `events.yaml` (SPEC §6): off unless an editors file exists."""
