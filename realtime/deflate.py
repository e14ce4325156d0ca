"""Per-message compression for bin/sockets (uvicorn), done once per message per process, not once per socket.

A results snapshot goes out to every socket on its poll with the same text. With the usual
permessage-deflate each socket keeps its own compressor (about 40 KiB of memory each) and
compresses that text again. Here the server asks for no context takeover both ways: each
message is compressed on its own, so the same text gives the same bytes on every socket, and
a process compresses it once (a small cache of the latest messages) and keeps no compressor per
socket. Browsers accept this (RFC 7692 lets the server ask for it). Messages too short to gain
are sent uncompressed, which the RFC allows message by message.

bin/sockets runs uvicorn with `--ws realtime.deflate:WebSocketProtocol`.
"""

import zlib

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.extensions.permessage_deflate import PerMessageDeflate, ServerPerMessageDeflateFactory
from websockets.frames import CONT, CTRL_OPCODES, Frame
from websockets.server import ServerProtocol

# Below this a message gains less from compression than it costs (a heartbeat, a pong, a confirmation).
COMPRESS_FROM_BYTES = 256
# The distinct messages a process sends at once: one poll's snapshot, a few polls' in a busy process.
CACHE_SIZE = 32
_EMPTY_BLOCK = b"\x00\x00\xff\xff"

_compressed: dict[tuple[bytes, int], bytes] = {}


def compressed(payload: bytes, window_bits: int) -> bytes:
    """The message's deflate bytes (RFC 7692: the block that ends a flush taken off), made once for every socket."""
    key = (payload, window_bits)
    data = _compressed.get(key)
    if data is None:
        encoder = zlib.compressobj(wbits=-window_bits)
        data = encoder.compress(payload) + encoder.flush(zlib.Z_SYNC_FLUSH)
        data = data[:-4] if data.endswith(_EMPTY_BLOCK) else data
        if len(_compressed) >= CACHE_SIZE:
            del _compressed[next(iter(_compressed))]  # the oldest: dicts keep insertion order
        _compressed[key] = data
    return data


class SharedDeflate(PerMessageDeflate):
    """permessage-deflate without context takeover, whose whole messages come from the process's cache."""

    def encode(self, frame: Frame) -> Frame:
        if frame.opcode in CTRL_OPCODES:
            return frame
        if frame.opcode is CONT or not frame.fin:
            return super().encode(frame)  # a fragmented message: compressed as usual (uvicorn sends none)
        if len(frame.data) < COMPRESS_FROM_BYTES:
            return frame
        data = compressed(bytes(frame.data), self.local_max_window_bits)
        return Frame(frame.opcode, data, True, True, frame.rsv2, frame.rsv3)


class SharedDeflateFactory(ServerPerMessageDeflateFactory):
    def __init__(self):
        # No context takeover either way: nothing is kept per socket between messages.
        super().__init__(server_no_context_takeover=True, client_no_context_takeover=True)

    def process_request_params(self, params, accepted_extensions):
        response, extension = super().process_request_params(params, accepted_extensions)
        return response, SharedDeflate(
            remote_no_context_takeover=extension.remote_no_context_takeover,
            local_no_context_takeover=extension.local_no_context_takeover,
            remote_max_window_bits=extension.remote_max_window_bits,
            local_max_window_bits=extension.local_max_window_bits,
        )


class WebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websockets-sansio protocol, with SharedDeflate in place of a compressor per socket."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.config.ws_per_message_deflate:
            self.conn = ServerProtocol(
                extensions=[SharedDeflateFactory()], max_size=self.config.ws_max_size, logger=self.conn.logger
            )
