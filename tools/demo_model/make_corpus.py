#!/usr/bin/env python3
"""Builds the demo model's training corpus from freely licensed Debian documentation packages.

    python3 tools/demo_model/make_corpus.py [--out demo-data]

Steps (all deterministic for the same .deb files):
  1. `apt-get download` each package of SOURCES at the version pinned there (falls back to the
     candidate version with a warning when the mirror no longer has it; the versions used are
     written to OUT/corpus/manifest.json with the .deb SHA-256).
  2. `dpkg-deb -x`, then every English document file of the package is turned into plain text:
     HTML (tags, scripts, navigation dropped), reStructuredText (directives, roles, underlines),
     POD and AsciiDoc markup removed.
  3. Deduplication: whole documents by a hash of their whitespace-normalised text, then paragraphs
     of 60+ characters seen before anywhere in the corpus (boilerplate, shared chapters).
  4. Split by document: a document whose SHA-256 starts with a byte below 5 (~2%) goes to the
     validation split; everything else to training.

Output (OUT/corpus/): train.txt, valid.txt -- UTF-8 documents separated by a line holding only
the ASCII record separator U+001E -- and manifest.json (packages, versions, sizes, counts).
Only the Python standard library is used. Licenses of every source: tools/demo_model/LICENSES.md.
"""
import argparse, gzip, hashlib, html, html.parser, json, os, re, subprocess, sys
from pathlib import Path

# package, pinned version, [(glob under the extracted tree, kind)], cap on the characters taken
SOURCES = [
    ("python3.11-doc", "3.11.2-6+deb12u9", [("usr/share/doc/python3.11/html/_sources/**/*.rst.txt", "rst")], None),
    ("debian-reference-en", "2.100", [("usr/share/debian-reference/*.en.html", "html")], None),
    ("debian-handbook", "11.20220922", [("usr/share/doc/debian-handbook/html/en-US/*.html", "html")], None),
    ("linux-doc-6.1", "6.1.192-3", [("usr/share/doc/linux-doc-6.1/html/_sources/**/*.rst.txt", "rst")], 30_000_000),
    ("postgresql-doc-15", "15.20-0+deb12u1", [("usr/share/doc/postgresql-doc-15/html/*.html", "html")], None),
    ("perl-doc", "5.36.0-7+deb12u4", [("usr/share/perl/5.36.0/pod/*.pod", "pod")], None),
    ("git-doc", "1:2.39.5-0+deb12u3", [("usr/share/doc/git-doc/*.txt", "asciidoc")], None),
    ("sqlite3-doc", "3.40.1-2+deb12u2", [("usr/share/doc/sqlite3/**/*.html", "html")], None),
    ("nodejs-doc", "18.20.4+dfsg-1~deb12u3", [("usr/share/doc/nodejs/api/*.md.gz", "markdown")], None),
    ("octave-doc", "7.3.0-2", [("usr/share/doc/octave/octave.html/*.html", "html")], None),
]
RS = "\x1e"


class _HtmlText(html.parser.HTMLParser):
    """Visible text of an HTML page; block elements become paragraph breaks."""
    SKIP = {"script", "style", "head", "nav", "footer", "noscript"}
    BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "dt", "dd", "table",
             "blockquote", "section", "ul", "ol", "dl", "hr", "title"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.skip, self.pre = [], 0, 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skip += 1
        # Sphinx/DocBook navigation bars and header links carry no prose.
        cls = dict(attrs).get("class") or ""
        if tag == "div" and any(c in cls for c in ("navheader", "navfooter", "related", "sphinxsidebar", "footer", "toc")):
            self.skip += 1
            self._skipdiv = getattr(self, "_skipdiv", []) + [0]
        elif tag == "div" and getattr(self, "_skipdiv", None):
            self._skipdiv[-1] += 1
        if tag == "pre":
            self.pre += 1
        if tag in self.BLOCK:
            self.parts.append("\n\n" if tag != "br" else "\n")

    def handle_endtag(self, tag):
        if tag in self.SKIP and self.skip:
            self.skip -= 1
        if tag == "div" and getattr(self, "_skipdiv", None):
            if self._skipdiv[-1] == 0:
                self._skipdiv.pop()
                self.skip -= 1
            else:
                self._skipdiv[-1] -= 1
        if tag == "pre" and self.pre:
            self.pre -= 1
        if tag in self.BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data):
        if self.skip:
            return
        self.parts.append(data if self.pre else re.sub(r"\s+", " ", data))


def html_to_text(raw):
    p = _HtmlText()
    p.feed(raw)
    return "".join(p.parts)


_RST_ROLE = re.compile(r":[\w:+-]+:`([^`<]*?)(?:\s*<[^>]*>)?`")
_RST_LINK = re.compile(r"`([^`<]+?)\s*<[^>]*>`_+")


def rst_to_text(raw):
    out, in_directive = [], False
    for line in raw.splitlines():
        s = line.strip()
        if re.fullmatch(r"([=\-~^\"'`#*+<>.:_])\1{2,}", s):
            continue  # section over/underlines
        if re.match(r"\.\.\s", s):  # directive, comment, target, substitution
            body = s[3:].strip()
            m = re.match(r"(note|warning|seealso|versionadded|versionchanged|deprecated|tip|important|attention|caution|hint)::\s*(.*)", body)
            in_directive = not m
            if m and m.group(2):
                out.append(m.group(2))
            continue
        if in_directive:
            if s and not line.startswith((" ", "\t")):
                in_directive = False
            elif s.startswith(":") or not s:
                continue
            else:
                in_directive = False  # content of a directive (code, tables): keep it
        line = _RST_ROLE.sub(r"\1", line)
        line = _RST_LINK.sub(r"\1", line)
        line = line.replace("`", "").replace("**", "")
        line = re.sub(r"(?<=\w)_\b|`_+|\|(\w[\w ]*)\|", lambda m: m.group(1) or "", line)
        out.append(line)
    return "\n".join(out)


def pod_to_text(raw):
    out, skipping = [], False
    for line in raw.splitlines():
        if line.startswith("="):
            cmd = line.split(None, 1)
            if cmd[0] in ("=begin", "=for"):
                skipping = cmd[0] == "=begin"
                continue
            if cmd[0] == "=end":
                skipping = False
                continue
            if cmd[0] in ("=head1", "=head2", "=head3", "=head4", "=item") and len(cmd) > 1:
                line = cmd[1]
            else:
                continue
        if skipping:
            continue
        for _ in range(3):  # nested formatting codes: B<C<x>>
            line = re.sub(r"[A-Z]<<+\s+(.*?)\s+>>+", r"\1", line)
            line = re.sub(r"L<([^|>]*\|)?([^>]*)>", r"\2", line)
            line = re.sub(r"E<gt>", ">", re.sub(r"E<lt>", "<", line))
            line = re.sub(r"[A-Z]<([^<>]*)>", r"\1", line)
        out.append(line)
    return "\n".join(out)


def asciidoc_to_text(raw):
    out = []
    for line in raw.splitlines():
        s = line.strip()
        if re.fullmatch(r"([=\-~^+.*_/])\1{3,}", s) or re.match(r"^(include|ifdef|endif|ifndef)::", s) or re.match(r"^\[\[.*\]\]$|^\[[a-z]+.*\]$", s):
            continue
        line = re.sub(r"link(?:git)?:([^\[]+)\[([^\]]*)\]", lambda m: m.group(2) or m.group(1), line)
        line = re.sub(r"'([^']+)'", r"\1", line) if line.count("'") >= 2 and not line.startswith(" ") else line
        out.append(line.replace("`", ""))
    return "\n".join(out)


def markdown_to_text(raw):
    out = []
    for line in raw.splitlines():
        if re.match(r"^\s*<!--.*-->\s*$", line) or re.fullmatch(r"\s*[-=]{3,}\s*", line):
            continue
        line = re.sub(r"^#+\s*", "", line)
        line = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", line)   # [text](url)
        line = re.sub(r"\[([^\]]*)\]\[[^\]]*\]", r"\1", line)     # [text][ref]
        if re.match(r"^\[[^\]]+\]:\s", line):                      # reference definitions
            continue
        out.append(line.replace("`", "").replace("**", ""))
    return "\n".join(out)


CONVERT = {"html": html_to_text, "rst": rst_to_text, "pod": pod_to_text, "asciidoc": asciidoc_to_text, "markdown": markdown_to_text}


def normalise(text):
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace(RS, " ").replace("\f", "\n").replace("\u00a0", " ")
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def download(pkg, version, debs):
    debs.mkdir(parents=True, exist_ok=True)
    have = sorted(debs.glob(f"{pkg}_*.deb"))
    if have:
        return have[0]
    r = subprocess.run(["apt-get", "download", f"{pkg}={version}"], cwd=debs, capture_output=True, text=True)
    if r.returncode != 0:
        print(f"warning: {pkg}={version} not on the mirror ({r.stderr.strip()}); taking the candidate version", file=sys.stderr)
        subprocess.run(["apt-get", "download", pkg], cwd=debs, check=True)
    return sorted(debs.glob(f"{pkg}_*.deb"))[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="demo-data", help="work folder (git-excluded); corpus goes to OUT/corpus")
    args = ap.parse_args()
    out = Path(args.out)
    debs, tree, corpus = out / "debs", out / "tree", out / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)

    seen_docs, seen_paras = set(), set()
    manifest = {"sources": []}
    with open(corpus / "train.txt", "w", encoding="utf-8") as ftrain, open(corpus / "valid.txt", "w", encoding="utf-8") as fvalid:
        for pkg, version, patterns, cap in SOURCES:
            deb = download(pkg, version, debs)
            dest = tree / pkg
            if not dest.exists():
                dest.mkdir(parents=True)
                subprocess.run(["dpkg-deb", "-x", str(deb), str(dest)], check=True)
            stats = {"package": pkg, "deb": deb.name, "sha256": hashlib.sha256(deb.read_bytes()).hexdigest(),
                     "files": 0, "documents": 0, "train_chars": 0, "valid_chars": 0, "duplicate_documents": 0}
            taken = 0
            for pattern, kind in patterns:
                for path in sorted(dest.glob(pattern)):
                    raw = gzip.open(path, "rb").read() if path.suffix == ".gz" else path.read_bytes()
                    if kind == "html":  # <pre> blocks of some manuals hold NUL-free binary-ish dumps; keep text only
                        raw = raw.replace(b"\0", b"")
                    text = normalise(CONVERT[kind](raw.decode("utf-8", errors="replace")))
                    stats["files"] += 1
                    key = hashlib.sha256(re.sub(r"\s+", " ", text).encode()).digest()
                    if key in seen_docs:
                        stats["duplicate_documents"] += 1
                        continue
                    seen_docs.add(key)
                    paras = []
                    for p in text.split("\n\n"):
                        k = hashlib.sha1(re.sub(r"\s+", " ", p.strip()).encode()).digest()
                        if len(p) >= 60:
                            if k in seen_paras:
                                continue
                            seen_paras.add(k)
                        paras.append(p)
                    text = "\n\n".join(paras).strip()
                    if len(text) < 200:
                        continue
                    if cap is not None and taken + len(text) > cap:
                        break
                    taken += len(text)
                    valid = key[0] < 5
                    (fvalid if valid else ftrain).write(text + "\n" + RS + "\n")
                    stats["documents"] += 1
                    stats["valid_chars" if valid else "train_chars"] += len(text)
            manifest["sources"].append(stats)
            print(json.dumps(stats), file=sys.stderr)
    for name in ("train.txt", "valid.txt"):
        manifest[name] = {"bytes": (corpus / name).stat().st_size,
                          "sha256": hashlib.sha256((corpus / name).read_bytes()).hexdigest()}
    (corpus / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(json.dumps({k: v for k, v in manifest.items() if k != "sources"}, indent=2))


if __name__ == "__main__":
    main()
