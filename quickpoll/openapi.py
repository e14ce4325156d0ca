def strip_trailing_slashes(result, generator, request, public):
    """Document paths as the seed named them (/api/polls); both spellings are served."""
    result["paths"] = {path.rstrip("/") or "/": item for path, item in result["paths"].items()}
    return result
