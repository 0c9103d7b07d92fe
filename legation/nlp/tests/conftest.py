from __future__ import annotations

# Inputs that must never fail a batch: empty, huge (> 1 MB), binary-looking, mixed-script, lone surrogates.
BAD_INPUTS: list[object] = [
    "",
    "   \n\t ",
    "flood " * 200_000,
    "\x00\x01\x02\x03\xff\xfe\x7f bin" * 50,
    bytes(range(256)).decode("latin-1"),
    "Help مساعدة помощь 帮助 सहायता ayuda 😀 #SOS",
    "broken \ud800 surrogate \udfff here",
    b"raw bytes \xff\xfe not utf-8",
    None,
    12345,
]
