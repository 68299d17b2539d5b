"""The one exception the sandbox raises: a message that names the problem and the fix."""


class SandboxError(RuntimeError):
    """A sandbox operation failed; str(err) tells the user what to do."""
