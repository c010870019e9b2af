"""Helpers for anything that ends up in an e-mail header."""


def header_safe(value: str, max_length: int = 200) -> str:
    """Collapse line breaks and runs of white space: headers must be one line."""
    return " ".join(str(value).split())[:max_length]
