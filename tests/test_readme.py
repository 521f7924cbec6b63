"""The README's Python examples run and print what they say."""

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def _python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_python_blocks_run_and_print_what_their_comments_say():
    blocks = _python_blocks()
    assert len(blocks) >= 2
    for block in blocks:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(block, str(README), "exec"), {})
        printed = out.getvalue().splitlines()
        promised = [m.group(1).strip() for m in re.finditer(r"print\(.*\)\s+#\s*(.+)", block)]
        for text in promised:
            assert text in printed, f"README promises {text!r}; printed {printed}"
