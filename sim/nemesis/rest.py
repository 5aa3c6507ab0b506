"""REST faults: on the REST links (latency, lost answers) and on what the venue answers
(error bursts, unknown outcomes, positions left out, forced -2021).

Two mechanisms, by what the fault means:

* **link rules** (``session.rest.up`` / ``.down``, messages named ``"METHOD /path"``): the
  venue behaves normally, the network does not. ``rest_latency``, ``rest_response_dropped``;
* **venue interceptors** (``venue.interceptors``, :class:`sim.venue.Interceptor`): ``before``
  answers instead of the venue, with no effect (``rest_error_burst``, ``order_forced_2021``);
  ``after`` rewrites the venue's answer once the request took effect
  (``rest_unknown_outcome``, ``rest_position_omitted``). The venue traces both
  (``venue.rest`` with ``effect`` and ``fault``).

Bodies copy Binance's, since ccxt maps by message and code first and by HTTP status only
when the body carries no error (binance-usdm.md §5.2): a 429/418 gives ``DDoSProtection``;
a 5xx whose body is not a Binance error gives ``ExchangeNotAvailable`` (``RequestTimeout``
for 504).
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from sim.nemesis.base import FaultEffect, Quota
from sim.nemesis.params import OPTIONAL, FaultParamError, Param
from sim.transport.actions import Delay, Drop
from sim.transport.latency import Fixed, LatencyModel, LogNormal, Uniform, WithSpikes
from sim.transport.link import Message
from sim.transport.protocol import HttpRequest, HttpResponse

JSON = {"Content-Type": "application/json"}
HTML = {"Content-Type": "text/html"}
ALGO_ORDER = "POST /fapi/v1/algoOrder"
ROUTE_HELP = '"" for every endpoint, or one like "POST /fapi/v1/algoOrder"'


def _route_of(request: HttpRequest) -> str:
    return f"{request.method} {request.path}"


def _json(status: int, body: dict[str, Any], reason: str, headers=JSON) -> HttpResponse:
    text = json.dumps(body, separators=(",", ":"))
    return HttpResponse(status, text.encode(), dict(headers), reason)


def _html(status: int, title: str, server: str = "") -> HttpResponse:
    footer = f"<hr><center>{server}</center>" if server else ""
    text = (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n{footer}</body>\r\n</html>\r\n"
    )
    return HttpResponse(status, text.encode(), dict(HTML), title.split(" ", 1)[1])


def _gateway_json(status: int, request: HttpRequest, now_ms: int, msg: str) -> HttpResponse:
    """Binance's gateway answer: no ``code``, so ccxt maps it by status (observed:
    ``503 {"timestamp":..,"path":"/fapi/v1/positionRisk","msg":"Unknown error, ..."}``)."""
    body = {"timestamp": now_ms, "path": request.path, "msg": msg}
    return _json(status, body, "Service Unavailable" if status == 503 else "Server Error")


class _Interceptor(FaultEffect):
    """A fault on the venue's answers; installed in ``venue.interceptors`` while active."""

    @property
    def name(self) -> str:
        return self.kind

    def start(self) -> None:
        self.world.venue.interceptors.append(self)

    def heal(self) -> None:
        interceptors = self.world.venue.interceptors
        for i, interceptor in enumerate(interceptors):
            if interceptor is self:
                del interceptors[i]
                return

    def matches(self, request: HttpRequest) -> bool:
        route = self.params["route"]
        return route == "" or route == _route_of(request)

    def before(self, request: HttpRequest, now_ms: int) -> HttpResponse | None:
        return None

    def after(self, request: HttpRequest, response: HttpResponse, now_ms: int) -> HttpResponse:
        return response


# ---------------------------------------------------------------------------- link faults
class RestLatency(FaultEffect):
    """Extra latency on REST messages of ``route``, both directions, each drawn on its own
    from the distribution (on top of the links' base latency), from the fault's seeded stream
    ``faults:<index>``. Heal: the rules come off; messages in flight keep their due time."""

    kind = "rest_latency"
    PARAMS: ClassVar = {
        "route": Param("route", "", ROUTE_HELP),
        "distribution": Param("choice", "fixed", choices=("fixed", "uniform", "lognormal")),
        "ms": Param("number_ms", OPTIONAL, "extra milliseconds per direction (fixed)"),
        "lo_ms": Param("number_ms", OPTIONAL, "lowest extra ms (uniform)"),
        "hi_ms": Param("number_ms", OPTIONAL, "highest extra ms (uniform)"),
        "median_ms": Param("number_ms", OPTIONAL, "median extra ms (lognormal)"),
        "sigma": Param("number", OPTIONAL, "shape of the lognormal", lo=0),
        "spike_probability": Param("number", 0, "chance a message takes a spike", lo=0, hi=1),
        "spike_lo_ms": Param("number_ms", OPTIONAL, "lowest spike ms"),
        "spike_hi_ms": Param("number_ms", OPTIONAL, "highest spike ms"),
    }
    _NEEDS: ClassVar = {
        "fixed": ("ms",),
        "uniform": ("lo_ms", "hi_ms"),
        "lognormal": ("median_ms", "sigma"),
    }

    @classmethod
    def check(cls, values: dict[str, Any]) -> None:
        distribution = values["distribution"]
        needs = cls._NEEDS[distribution]
        for name in needs:
            if name not in values:
                raise cls._err(
                    name,
                    f"distribution {distribution!r} needs {' and '.join(needs)}. "
                    f"Fix: add {name} = ...",
                )
        for other, names in cls._NEEDS.items():
            for name in names:
                if name in values and name not in needs:
                    raise cls._err(
                        name, f"is for distribution {other!r}, not {distribution!r}. Fix: remove it"
                    )
        if distribution == "uniform" and values["hi_ms"] < values["lo_ms"]:
            raise cls._err("hi_ms", f"is below lo_ms ({values['lo_ms']}). Fix: swap them")
        if distribution == "lognormal" and values["median_ms"] <= 0:
            raise cls._err("median_ms", "must be > 0 for a lognormal. Fix: e.g. median_ms = 40")
        spikes = ("spike_lo_ms", "spike_hi_ms")
        if values["spike_probability"] > 0:
            for name in spikes:
                if name not in values:
                    raise cls._err(
                        name,
                        "spike_probability > 0 needs spike_lo_ms and spike_hi_ms. "
                        f"Fix: add {name} = ...",
                    )
            if values["spike_hi_ms"] < values["spike_lo_ms"]:
                raise cls._err("spike_hi_ms", "is below spike_lo_ms. Fix: swap them")
        else:
            for name in spikes:
                if name in values:
                    raise cls._err(name, "is unused while spike_probability is 0. Fix: remove it")

    @classmethod
    def _err(cls, param: str, message: str) -> FaultParamError:
        return FaultParamError(cls.kind, param, message)

    def model(self) -> LatencyModel:
        p = self.params
        distribution = p["distribution"]
        if distribution == "fixed":
            base: LatencyModel = Fixed(p["ms"])
        elif distribution == "uniform":
            base = Uniform(p["lo_ms"], p["hi_ms"])
        else:
            base = LogNormal(p["median_ms"], p["sigma"])
        if p["spike_probability"] > 0:
            return WithSpikes(base, p["spike_probability"], p["spike_lo_ms"], p["spike_hi_ms"])
        return base

    def bind(self) -> None:
        self._model = self.model()
        self._rng = self.world.rng(self.index)
        self._handles: list[tuple[Any, int]] = []

    def _rule(self, message: Message) -> Delay | None:
        route = self.params["route"]
        if route and message.kind != route:
            return None
        return Delay(self._model.draw_us(self._rng))

    def start(self) -> None:
        rest = self.world.session.rest
        self._handles = [(link, link.add_rule(self._rule)) for link in (rest.up, rest.down)]

    def heal(self) -> None:
        for link, handle in self._handles:
            link.remove_rule(handle)
        self._handles = []


class RestResponseDropped(FaultEffect):
    """The request reaches the venue and takes effect; its answer is lost on the way back
    (the client times out: ccxt's ``RequestTimeout``). ``count`` answers, or all while
    active. Heal: answers flow again."""

    kind = "rest_response_dropped"
    PARAMS: ClassVar = {
        "route": Param("route", "", ROUTE_HELP),
        "count": Param("count", 0, "answers to lose (0: every one while active)"),
    }

    def bind(self) -> None:
        self._counter = Quota(self.params["count"])
        self._handle: int | None = None

    def _rule(self, message: Message) -> Drop | None:
        route = self.params["route"]
        if route and message.kind != route:
            return None
        return Drop() if self._counter.take() else None

    def start(self) -> None:
        self._handle = self.world.session.rest.down.add_rule(self._rule)

    def heal(self) -> None:
        if self._handle is not None:
            self.world.session.rest.down.remove_rule(self._handle)
            self._handle = None


# ---------------------------------------------------------------------------- venue answers
class RestErrorBurst(_Interceptor):
    """Every matching request is answered by the venue's front (a rate limiter, a gateway)
    with ``status`` instead of being served: no effect. 429 and 418 carry Binance's -1003
    body (ccxt: ``DDoSProtection``); 500 and 502 a gateway's HTML page and 503 the gateway's
    ``"Service Unavailable."`` JSON without a code (ccxt: ``ExchangeNotAvailable``). Heal:
    requests are served again."""

    kind = "rest_error_burst"
    PARAMS: ClassVar = {
        "route": Param("route", "", ROUTE_HELP),
        "status": Param("choice", 429, choices=(429, 418, 500, 502, 503)),
    }

    def before(self, request: HttpRequest, now_ms: int) -> HttpResponse | None:
        if not self.matches(request):
            return None
        status = self.params["status"]
        if status in (418, 429):
            until_ms = self.heals_ms
            headers = {**JSON, "Retry-After": str(max(1, -(-(until_ms - now_ms) // 1000)))}
            if status == 429:
                msg = (
                    "Too many requests; current limit is 2400 requests per minute. Please use "
                    "the websocket for live updates to avoid polling the API."
                )
                return _json(429, {"code": -1003, "msg": msg}, "Too Many Requests", headers)
            msg = (
                f"Way too many requests; IP banned until {until_ms}. Please use the websocket "
                "for live updates to avoid bans."
            )
            return _json(418, {"code": -1003, "msg": msg}, "I'm a teapot", headers)
        if status == 500:
            return _html(500, "500 Internal Server Error")
        if status == 502:
            return _html(502, "502 Bad Gateway", "nginx")
        return _gateway_json(503, request, now_ms, "Service Unavailable.")


class RestUnknownOutcome(_Interceptor):
    """The request takes effect at the venue; the client gets ``status`` instead of the
    answer: 503 "Unknown error, please check your request or try again later." (Binance's
    "execution status UNKNOWN", §5.5), 500/502 a gateway page (all ccxt
    ``ExchangeNotAvailable``), 504 a gateway timeout (``RequestTimeout``). ``count`` answers,
    or all while active. Heal: answers pass unchanged."""

    kind = "rest_unknown_outcome"
    PARAMS: ClassVar = {
        "route": Param("route", ALGO_ORDER, ROUTE_HELP),
        "status": Param("choice", 503, choices=(503, 500, 502, 504)),
        "count": Param("count", 1, "answers to replace (0: every one while active)"),
    }

    def bind(self) -> None:
        self._counter = Quota(self.params["count"])

    def after(self, request: HttpRequest, response: HttpResponse, now_ms: int) -> HttpResponse:
        if not self.matches(request) or not self._counter.take():
            return response
        status = self.params["status"]
        if status == 503:
            msg = "Unknown error, please check your request or try again later."
            return _gateway_json(503, request, now_ms, msg)
        if status == 504:
            return _html(504, "504 Gateway Time-out", "nginx")
        if status == 502:
            return _html(502, "502 Bad Gateway", "nginx")
        return _html(500, "500 Internal Server Error")


POSITION_ROUTES = ("GET /fapi/v3/positionRisk", "GET /fapi/v2/positionRisk")
ACCOUNT_ROUTES = ("GET /fapi/v3/account", "GET /fapi/v2/account")


class RestPositionOmitted(_Interceptor):
    """Answers of ``positionRisk`` (v2, v3) and ``account`` (v2, v3, its ``positions``)
    leave ``symbol`` out, though the position exists (the incident's "REST lags the
    stream"). ``calls``: that many answers, or all while active. Heal: answers are whole."""

    kind = "rest_position_omitted"
    PARAMS: ClassVar = {
        "symbol": Param("symbol", help='the Binance symbol to leave out, e.g. "SOONUSDT"'),
        "calls": Param("count", 0, "answers to rewrite (0: every one while active)"),
    }

    def bind(self) -> None:
        self.require_symbol()
        self._counter = Quota(self.params["calls"])

    def after(self, request: HttpRequest, response: HttpResponse, now_ms: int) -> HttpResponse:
        route = _route_of(request)
        if response.status != 200 or route not in POSITION_ROUTES + ACCOUNT_ROUTES:
            return response
        symbol = self.params["symbol"]
        body = json.loads(response.body)
        if route in POSITION_ROUTES:
            kept = [row for row in body if row.get("symbol") != symbol]
            if len(kept) == len(body):
                return response
            body = kept
        else:
            rows = body.get("positions", [])
            kept = [row for row in rows if row.get("symbol") != symbol]
            if len(kept) == len(rows):
                return response
            body = {**body, "positions": kept}
        if not self._counter.take():
            return response
        text = json.dumps(body, separators=(",", ":"))
        return HttpResponse(response.status, text.encode(), response.headers, response.reason)


class OrderForced2021(_Interceptor):
    """New orders on ``route`` are refused with HTTP 400 ``{"code":-2021,"msg":"Order would
    immediately trigger."}`` (ccxt: ``OrderImmediatelyFillable``), without effect, whatever
    the price. ``count`` refusals, or all while active. Heal: orders are served again."""

    kind = "order_forced_2021"
    PARAMS: ClassVar = {
        "route": Param("route", ALGO_ORDER, ROUTE_HELP),
        "count": Param("count", 0, "requests to refuse (0: every one while active)"),
    }

    def bind(self) -> None:
        self._counter = Quota(self.params["count"])

    def before(self, request: HttpRequest, now_ms: int) -> HttpResponse | None:
        if not self.matches(request) or not self._counter.take():
            return None
        body = {"code": -2021, "msg": "Order would immediately trigger."}
        return _json(400, body, "Bad Request")
