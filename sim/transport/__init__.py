"""The simulated network under ccxt: links with latency and fault hooks, and the
aiohttp-session look-alike that ccxt's ``session`` option accepts.

Modules: :mod:`~sim.transport.protocol` (what crosses the network; the venue's interface),
:mod:`~sim.transport.latency` (latency models), :mod:`~sim.transport.actions` (what a fault
rule may do), :mod:`~sim.transport.link` (one direction of a connection),
:mod:`~sim.transport.rest` and :mod:`~sim.transport.ws_connection` /
:mod:`~sim.transport.ws_client` / :mod:`~sim.transport.ws_registry` (REST and WebSocket over
links), :mod:`~sim.transport.session` (:class:`SimSession`, ccxt's ``session``),
:mod:`~sim.transport.urls` (which hosts are simulated).
"""

from sim.transport.actions import Delay, Drop, Duplicate, Hold, for_kinds
from sim.transport.latency import ByEndpoint, Fixed, LogNormal, Uniform, WithSpikes
from sim.transport.link import Link, Message
from sim.transport.session import SimSession
from sim.transport.urls import UnsimulatedHost
from sim.transport.ws_connection import WsConnection
from sim.transport.ws_registry import WsRegistry, any_connection, market_data, user_data

__all__ = [
    "ByEndpoint",
    "Delay",
    "Drop",
    "Duplicate",
    "Fixed",
    "Hold",
    "Link",
    "LogNormal",
    "Message",
    "SimSession",
    "Uniform",
    "UnsimulatedHost",
    "WithSpikes",
    "WsConnection",
    "WsRegistry",
    "any_connection",
    "for_kinds",
    "market_data",
    "user_data",
]
