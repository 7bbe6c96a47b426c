"""A griffe extension for the API reference: reads the package's `Example:` paragraphs as
griffe's Google-style `Examples:` section, so their `>>>` lines render as code, not as quotes.

The docstrings write `Example:` with the `>>>` lines below it unindented (readable in `help()`);
griffe knows only `Examples:` with an indented body. This indents the lines up to the next blank
line under an `Examples:` heading. Docstrings in the source are not changed.
"""

import griffe


def examples_section(text):
    lines = text.split("\n")
    out = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip() == "Example:" and i + 1 < len(lines) and lines[i + 1].strip():
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}Examples:")
            i += 1
            while i < len(lines) and lines[i].strip():
                out.append(f"{indent}    {lines[i][len(indent):]}")
                i += 1
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


class ExampleSections(griffe.Extension):
    def on_instance(self, *, obj, **kwargs):
        if obj.docstring is not None:
            obj.docstring.value = examples_section(obj.docstring.value)
