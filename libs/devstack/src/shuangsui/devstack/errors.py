"""Errors the development stack reports to the person who started it."""


class DevstackError(RuntimeError):
    """A problem with the local stack that the operator can fix; the message says how."""


class PortInUse(DevstackError):
    def __init__(self, what: str, port: int, env_var: str) -> None:
        super().__init__(
            f"{what} cannot listen on 127.0.0.1:{port}: the port is already in use. "
            f"Stop the other program or choose another port with {env_var}=<port>."
        )
        self.port = port
        self.env_var = env_var


class DataDirVersionMismatch(DevstackError):
    def __init__(self, data_dir: str, found: str, expected: str) -> None:
        super().__init__(
            f"The PostgreSQL data directory {data_dir} was created by PostgreSQL {found}, "
            f"but this stack runs PostgreSQL {expected}. Move the directory away (or dump and "
            f"restore it with the matching version), then start again."
        )
        self.found = found
        self.expected = expected


class ServerDidNotStart(DevstackError):
    pass
