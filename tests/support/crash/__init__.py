"""The crash run of the events outbox: servers killed at random moments under a stream of
writes and a burst of reminders, a receiver that fails some attempts, and the checks that
every committed change and due reminder arrived, once or more, under one id each."""
