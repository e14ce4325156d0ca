"""Text written into CSV files that people open in spreadsheets."""


def safe_cell(value) -> str:
    # A cell starting with = + - @ would run as a formula in a spreadsheet.
    text = str(value)
    return f"'{text}" if text[:1] in {"=", "+", "-", "@"} else text
