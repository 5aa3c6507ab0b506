"""The exchange model: Binance USDⓈ-M's rules, pure and honest.

Pure: no simpy, no I/O, no clock; time comes in as ``t_ms`` arguments, randomness from a
``random.Random`` passed in. Honest: it knows nothing about faults; the nemesis acts on the
links and the wire layer (DESIGN.md, principle 4).
"""
