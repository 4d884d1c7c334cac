"""Security headers of the pages the API itself serves (/docs, /openapi.json, the snippet-not-found page): a CSP
and X-Frame-Options like every page but /embed (web.py), so none of them can be framed by another site."""
import secrets

from fastapi.responses import Response

_COMMON = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "SAMEORIGIN"}


def nonce() -> str:
    return secrets.token_urlsafe(16)


def page_csp(nonce_value: str, *, scripts: bool = False) -> str:
    """Own files only, the inline elements that carry `nonce_value`, framed by this origin only."""
    script = f"script-src 'self' 'nonce-{nonce_value}'" if scripts else "script-src 'none'"
    return "; ".join(["default-src 'self'", script, f"style-src 'self' 'nonce-{nonce_value}'",
                      "img-src 'self' data:", "object-src 'none'", "base-uri 'none'", "form-action 'self'",
                      "frame-ancestors 'self'"])


DATA_CSP = "default-src 'none'; frame-ancestors 'none'"  # a JSON document: nothing to run, nowhere to be framed


def secure(response: Response, csp: str) -> Response:
    response.headers.update(_COMMON)
    response.headers["Content-Security-Policy"] = csp
    return response
