"""Puts benchmarks/results/zoo.md into README.md between the zoo-table markers."""

import re

START, END = "<!-- zoo-table:start -->", "<!-- zoo-table:end -->"

with open("benchmarks/results/zoo.md") as f:
    table = f.read().strip()
with open("README.md") as f:
    readme = f.read()
block = f"{START}\n{table}\n{END}"
if START in readme:
    readme = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda m: block, readme, flags=re.S)
else:
    readme = readme.replace("ZOO_TABLE", block)
with open("README.md", "w") as f:
    f.write(readme)
