#!/usr/bin/env python3
"""Expand the rule-pack template into rules/default.yaml.

Usage: expand.py TEMPLATE OUT.  The template is macros.txt followed by rules.tmpl:
`#define NAME regex` and `#words NAME a|b|c` lines define building blocks ({{NAME}}),
word lists become prefix-factored alternations (trie.py).  `make rules` runs it;
`make rules-check` fails when rules/default.yaml is out of date."""
import re, sys
src = open(sys.argv[1]).read()
macros = {}
wordlists = {}
sys.path.insert(0, __import__("os").path.dirname(__import__("os").path.abspath(__file__)))
from trie import trie_regex
body = []
for line in src.splitlines(keepends=True):
    m = re.match(r"^#define (\w+) (.*)$", line)
    if m:
        macros[m[1]] = m[2].rstrip("\n")
        continue
    m = re.match(r"^#words (\w+) (.*)$", line)
    if m:
        wl = m[2].rstrip("\n").split("|")
        macros[m[1]] = "(?:" + trie_regex(wl) + ")"
        wordlists[m[1]] = wl
        continue
    body.append(line)
out = "".join(body)
# Rules prefiltered by keywords get the STOP word list once, as a subroutine
# (?(DEFINE)(?<stopw>...)) called with (?&stopw): PCRE2 caps a compiled pattern at 64 KB.
# Keyword-less rules keep it inline (Vectorscan has no subroutine calls).
def expand_plain(s, extra=None):
    for _ in range(12):
        n = re.sub(r"\{\{(\w+)\}\}", lambda m: (extra or {}).get(m[1], macros.get(m[1], m[0])), s)
        if n == s: return n
        s = n
    return s
parts = re.split(r"(?m)^(?=- id: |allow:)", out)
for i, b in enumerate(parts):
    if b.startswith("- id: ") and re.search(r"(?m)^  keywords: ", b):
        def fix(m):
            pat = expand_plain(m[2], {"STOPW": "(?&stopw)"})
            if "(?&stopw)" in pat:
                pat = "(?(DEFINE)(?<stopw>" + macros["STOPW"] + "))" + pat
            return m[1] + pat + "'"
        parts[i] = re.sub(r"(?m)^(  pattern: ')(.*)'$", fix, b, count=1)
out = "".join(parts)
for _ in range(10):
    new = re.sub(r"\{\{(\w+)\}\}", lambda m: macros[m[1]], out)
    if new == out: break
    out = new
for k, v in list(macros.items()):
    pass
if "{{" in out:
    sys.exit("unexpanded macro: " + re.search(r"\{\{\w+\}\}", out)[0])
blk = "\n".join(("#   %s = words (prefix-factored in the patterns): %s" % (k, "|".join(wordlists[k]))) if k in wordlists else ("#   %s = %s" % (k, v)) for k, v in macros.items())
out = out.replace("@@BLOCKS@@", blk).replace("@@NAMEREF@@", "{{NAME}}")
open(sys.argv[2], "w").write(out)
