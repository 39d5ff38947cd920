"""HTTP routers, one per resource (tasks.py, plus health.py), and the Annotated dependencies
their handlers ask for (dependencies.py): thin handlers over the store and the task rules.
They never reach the storage room: the database is the store's business."""
