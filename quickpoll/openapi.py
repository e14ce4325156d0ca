def strip_trailing_slashes(result, generator, request, public):
    """Document paths without a trailing slash (/api/polls), as the README does; both spellings are served."""
    result["paths"] = {path.rstrip("/") or "/": item for path, item in result["paths"].items()}
    return result
