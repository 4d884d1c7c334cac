"""Printed memory addresses (`<MulBackward0 object at 0x7f…>`) made stable, so the same program gives the same trace."""
import re

_ADDRESS = re.compile(r"\bat 0x([0-9a-fA-F]{6,16})\b")


def stabilize(text: str, node_ids: dict[int, str]) -> str:
    """An autograd node's address becomes its trace id (`at n3`); any other address a stable `at 0x1`, `0x2`, …"""
    others: dict[int, str] = {}

    def label(match: re.Match) -> str:
        address = int(match.group(1), 16)
        if address in node_ids:
            return f"at {node_ids[address]}"
        return f"at {others.setdefault(address, hex(len(others) + 1))}"

    return _ADDRESS.sub(label, text) if "at 0x" in text else text
