"""Events: the outbox the tasks table's triggers write, the reminder scheduler, and the relay
that delivers each event, signed, to the endpoints an operator configures."""
