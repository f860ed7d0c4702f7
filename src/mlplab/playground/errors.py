"""The playground's one error type."""


class SetupError(ValueError):
    """A set-up value out of range or of the wrong kind; the message is shown on the page."""
