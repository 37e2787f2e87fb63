import re
def trie_regex(words):
    """Prefix-factored alternation (case-sensitive literal words), longest first at each level."""
    words = sorted(set(words))
    def build(ws):
        # ws: list of suffixes (may include '')
        groups = {}
        end = False
        for w in ws:
            if w == '': end = True; continue
            groups.setdefault(w[0], []).append(w[1:])
        alts = []
        for ch in sorted(groups):
            sub = build(groups[ch])
            alts.append(re.escape(ch) + sub)
        if not alts: return ''
        if len(alts) == 1 and not end:
            return alts[0]
        body = '|'.join(alts)
        return '(?:%s)%s' % (body, '?' if end else '')
    return build(words)
if __name__ == '__main__':
    ws = "Age|Address|Addr|Apt|Arch".split('|')
    r = trie_regex(ws); print(r)
    import re as R
    for w in ws: assert R.fullmatch(r, w), w
