"""The live runner: where it points, what it refuses, and that it runs the same bot."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import ccxt.pro
import pytest

from bot.live import (
    LiveSetupError,
    RedactSecrets,
    Target,
    build_exchange,
    choose_target,
    keys_from_env,
)

ROOT = Path(__file__).resolve().parents[2]


def test_default_target_is_demo_trading_never_production():
    exchange = build_exchange(choose_target(None, False), "key", "secret")
    assert exchange.urls["api"]["fapiPrivate"] == "https://demo-fapi.binance.com/fapi/v1"
    assert exchange.urls["api"]["ws"]["linear"] == "wss://fstream.binancefuture.com/ws"
    assert exchange.options["enableDemoTrading"] is True
    assert not exchange.isSandboxModeEnabled  # set_sandbox_mode breaks signed futures calls


def test_demo_websocket_host_is_a_setting():
    target = choose_target(None, False, "wss://demo-fstream.binance.com")
    exchange = build_exchange(target, "key", "secret")
    assert exchange.urls["api"]["ws"]["linear"] == "wss://demo-fstream.binance.com/ws"


@pytest.mark.parametrize(
    "url",
    [
        "https://fapi.binance.com",
        "https://fstream.binance.com/x",
        "https://fapi.binance.com.",  # trailing root dot: the same host to DNS
        "https://FAPI.Binance.com",  # host names are case-insensitive
        "https://fapi1.binance.com",  # numbered production mirrors
        "https://papi.binance.com",  # portfolio margin
    ],
)
def test_production_hosts_need_the_explicit_flag(url):
    with pytest.raises(LiveSetupError, match=r"production host.*--production"):
        choose_target(url, False)
    assert choose_target(url, True).kind == "endpoint"


def test_the_demo_stream_host_cannot_be_a_production_one():
    with pytest.raises(LiveSetupError, match="--demo-ws-host"):
        choose_target(None, False, "wss://fstream.binance.com")


@pytest.mark.parametrize(
    "url",
    [
        "https://demo-fapi.binance.com",
        "https://testnet.binancefuture.com",
        "http://127.0.0.1:8080",
        "https://notbinance.com",
    ],
)
def test_demo_testnet_and_local_endpoints_need_no_flag(url):
    assert choose_target(url, False).kind == "endpoint"


def test_an_endpoint_gets_binances_paths_and_the_real_hosts_error_map():
    exchange = build_exchange(Target("endpoint", "http://127.0.0.1:8765"), "key", "secret")
    api = exchange.urls["api"]
    assert api["fapiPrivate"] == "http://127.0.0.1:8765/fapi/v1"
    assert api["fapiPrivateV3"] == "http://127.0.0.1:8765/fapi/v3"
    assert api["sapi"].startswith("http://127.0.0.1:8765/")  # nothing left pointing outside
    assert api["ws"]["linear"] == "ws://127.0.0.1:8765/ws"
    assert exchange.exceptions["exact"]["-2021"] is ccxt.OrderImmediatelyFillable
    assert isinstance(exchange, ccxt.pro.binanceusdm) and exchange.session is None


def test_bad_endpoints_are_refused_with_an_example():
    with pytest.raises(LiveSetupError, match="expected a base URL such as"):
        choose_target("127.0.0.1:8080", False)


def test_keys_come_from_the_environment_and_missing_ones_are_named():
    assert keys_from_env({"BINANCE_API_KEY": "k", "BINANCE_API_SECRET": "s"}) == ("k", "s")
    with pytest.raises(LiveSetupError, match="set BINANCE_API_SECRET"):
        keys_from_env({"BINANCE_API_KEY": "k"})


def test_secrets_are_redacted_from_log_records(caplog):
    logger = logging.getLogger("test.live.redact")
    redact = RedactSecrets("KEY-123", "SECRET-456")
    logger.addFilter(redact)
    try:
        with caplog.at_level(logging.INFO, logger="test.live.redact"):
            logger.info("signing with %s and %s", "KEY-123", "SECRET-456")
    finally:
        logger.removeFilter(redact)
    assert "KEY-123" not in caplog.text and "SECRET-456" not in caplog.text
    assert caplog.text.count("***") == 2


def test_the_cli_refuses_production_without_the_flag_and_never_echoes_keys():
    env = {
        **os.environ,
        "BINANCE_API_KEY": "very-secret-key",
        "BINANCE_API_SECRET": "very-secret-secret",
    }
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim",
            "live",
            "bot/examples/demo.toml",
            "--endpoint",
            "https://fapi.binance.com",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2
    assert "--production" in run.stderr
    assert "very-secret" not in run.stdout + run.stderr


def test_the_bot_never_refers_to_the_simulator():
    """One bot, two transports: nothing in bot/ knows it can be simulated (import-linter
    enforces the imports; this also catches strings and comments that would steer it)."""
    pattern = re.compile(r"\b(import sim|from sim\b|simpy|freezegun|FakeBinance|SimSession)")
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "bot").rglob("*.py")
        if pattern.search(p.read_text())
    ]
    assert offenders == []
