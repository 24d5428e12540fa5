"""The socketify (uWebSockets) peer of the WebSocket benchmarks.

usage: socketify_ws.py echo|chat HOST:PORT

echo: every message goes back to its sender. chat: every message is
published to one topic every client subscribes to (uWebSockets serialises
it once), the sender included. No compression, as on the c10k side."""
import sys

from socketify import App, AppListenOptions, CompressOptions

mode, addr = sys.argv[1], sys.argv[2]
host, port = addr.rsplit(":", 1)
app = App()


def echo(ws, message, opcode):
    ws.send(message, opcode)


def join(ws):
    ws.subscribe("room")


def publish(ws, message, opcode):
    app.publish("room", message, opcode)


app.ws("/*", {
    "compression": CompressOptions.DISABLED,
    "max_payload_length": 16 * 1024 * 1024,
    "idle_timeout": 120,
    "max_backpressure": 16 * 1024 * 1024,
    "open": join if mode == "chat" else None,
    "message": publish if mode == "chat" else echo,
})
app.listen(AppListenOptions(port=int(port), host=host),
           lambda config: print(f"listening on {addr}", flush=True))
app.run()
