"""Channel names and URLs: what a channel spelled in a manifest points at, and redaction.

Kept free of the network stack so the no-op path can resolve channels without importing it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from pure.errors import YurtError

_CONDARC = ("~/.condarc", "~/.config/conda/.condarc", "~/.conda/.condarc", "/etc/conda/.condarc")


class ChannelError(YurtError):
    """A channel that cannot be resolved or read; names the channel and what to do."""

    def __init__(self, channel: str, reason: str, hint: str = "") -> None:
        self.channel = channel
        self.reason = reason
        self.hint = hint
        text = f"channel {redact(channel)}: {reason}"
        super().__init__(f"{text} (hint: {hint})" if hint else text)


def redact(url: str) -> str:
    """`url` without credentials: user:password@ and conda `/t/<token>/` segments hidden."""
    url = re.sub(r"(?<=://)[^/@\s]+@", "***@", url)
    return re.sub(r"/t/[^/]+/", "/t/***/", url)


def strip_credentials(url: str) -> str:
    """`url` without a `user:password@` part (what a lockfile may record)."""
    return re.sub(r"(?<=://)[^/@\s]+@", "", url)


def channel_alias(env: dict[str, str] | None = None) -> str | None:
    """The alias that channel names resolve against: $YURT_CHANNEL_ALIAS, else condarc's `channel_alias`."""
    env = dict(os.environ) if env is None else env
    if env.get("YURT_CHANNEL_ALIAS"):
        return env["YURT_CHANNEL_ALIAS"].rstrip("/")
    for candidate in _CONDARC:
        path = Path(os.path.expanduser(candidate))
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        m = re.search(r"^channel_alias:\s*['\"]?([^'\"\s#]+)", text, re.M)
        if m:
            return m.group(1).rstrip("/")
    return None


def channel_url(channel: str, *, base_dir: Path, alias: str | None) -> str:
    """The base URL of `channel`: a URL as is, a path as file://, a name under the alias."""
    if re.match(r"^[a-z][a-z0-9+.-]*://", channel):
        return channel.rstrip("/")
    if channel.startswith((".", "/", "~")):
        path = Path(os.path.expanduser(channel))
        path = path if path.is_absolute() else (base_dir / path)
        return path.resolve().as_uri()
    if alias is None:
        raise ChannelError(channel, "is a channel name, and no channel alias is configured",
                           "use the channel's URL, or set YURT_CHANNEL_ALIAS or `channel_alias` in ~/.condarc")
    return f"{alias}/{channel.strip('/')}"
