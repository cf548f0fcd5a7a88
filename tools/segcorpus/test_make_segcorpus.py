#!/usr/bin/env python3
"""Tests of the segmentation corpus builder: the held-out rule (issue 20) and the two variants.

    python3 tools/segcorpus/test_make_segcorpus.py
"""
import gzip, sys, tempfile, unittest
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_segcorpus as m  # noqa: E402


class HeldOutRule(unittest.TestCase):
    REFUSED_PATHS = [
        "/usr/share/doc/debian-handbook/html/en-US/apt.html",
        "/usr/share/doc/debian-handbook/html/fr-FR/sect.apt.html",
        "/usr/share/doc/nodejs/api/fs.md.gz",
        "/usr/share/man/man5/passwd.5.gz",
        "/usr/share/man/man7/regex.7.gz",
        "/usr/share/man/man8/mount.8.gz",
        "/usr/share/man/fr/man8/apt-get.8.gz",
        "/usr/share/man/de/man5/sources.list.5.gz",
        "/usr/share/man/man1/../man8/x.8",
        "/usr/lib/python3.11/os.py",
        "/usr/lib/python3.11/email/message.py",
        "/usr/share/doc/maint-guide/html/index.en.html",
        "/usr/share/common-licenses/GPL-3",
        "/usr/share/doc/grep/changelog.Debian.gz",
        "/usr/share/doc/python3-jinja2/changelog.Debian.amd64.gz",
    ]
    ALLOWED_PATHS = [
        "/usr/share/man/man1/git-log.1.gz",
        "/usr/share/man/fr/man1/test.1.gz",
        "/usr/share/man/man3/printf.3.gz",
        "/usr/lib/python3/dist-packages/jinja2/filters.py",
        "/usr/share/doc/grep/changelog.gz",
        "/usr/share/doc/grep/NEWS.gz",
        "/usr/share/debian-reference/ch09.de.html",
    ]

    def test_refuses_every_held_out_path(self):
        for p in self.REFUSED_PATHS:
            with self.subTest(path=p):
                self.assertIsNotNone(m.excluded_reason(p))

    def test_allows_other_documentation(self):
        for p in self.ALLOWED_PATHS:
            with self.subTest(path=p):
                self.assertIsNone(m.excluded_reason(p))

    def test_refuses_held_out_packages(self):
        for pkg in ("debian-handbook", "nodejs-doc", "maint-guide", "libpython3.11-stdlib", "python3.11-minimal"):
            with self.subTest(package=pkg):
                self.assertIsNotNone(m.excluded_reason(package=pkg))
        self.assertIsNone(m.excluded_reason(package="python3-jinja2"))

    def test_sources_name_no_held_out_package_or_path(self):
        for entry in m.SOURCES:
            self.assertIsNone(m.excluded_reason(package=entry[3]), entry)
            for glob in entry[5]:
                self.assertIsNone(m.excluded_reason("/" + glob), glob)

    def test_build_stops_on_a_held_out_source_before_downloading(self):
        bad = m.SOURCES + [("html", "docbook-html", "en", "debian-handbook", "11", ["usr/share/doc/debian-handbook/html/en-US/*.html"], 1)]
        with tempfile.TemporaryDirectory() as out, mock.patch.object(m, "SOURCES", bad), \
                mock.patch.object(m, "download", side_effect=AssertionError("downloaded")), \
                mock.patch.object(sys, "argv", ["make_segcorpus.py", "--out", out]):
            with self.assertRaises(SystemExit) as e:
                m.main()
            self.assertIn("debian-handbook", str(e.exception.code))

    def test_select_files_skips_held_out_files_of_a_package(self):
        with tempfile.TemporaryDirectory() as root:
            for rel in ("usr/share/man/man1/ok.1.gz", "usr/share/man/man8/no.8.gz", "usr/share/man/man5/no.5.gz",
                        "usr/share/doc/p/changelog.gz", "usr/share/doc/p/changelog.Debian.gz",
                        "usr/lib/python3.11/no.py", "usr/lib/python3/dist-packages/p/ok.py"):
                f = Path(root, rel)
                f.parent.mkdir(parents=True, exist_ok=True)
                f.write_bytes(gzip.compress(b"x"))
            files, skipped = m.select_files(root, ["**/*"], "p")
            got = sorted(str(f.relative_to(root)) for f in files)
            self.assertEqual(got, ["usr/lib/python3/dist-packages/p/ok.py", "usr/share/doc/p/changelog.gz",
                                   "usr/share/man/man1/ok.1.gz"])
            self.assertEqual(len(skipped), 4)

    def test_debian_format_changelog_is_refused(self):
        deb = "grep (3.8-5) unstable; urgency=medium\n\n  * New upstream release.\n\n -- A <a@b>  Mon, 1 Jan 2023 00:00:00 +0000\n"
        self.assertTrue(m.is_debian_changelog(deb))
        self.assertEqual(m.parse_changelog(deb, "en", "gnu-changelog"), [])
        self.assertFalse(m.is_debian_changelog("2022-09-02  Jim Meyering  <meyering@fb.com>\n\n\tversion 3.8\n"))


class Variants(unittest.TestCase):
    MD = "# Title\n\nIntro text.\n\n## First\n\nBody one.\n\n## Second\n\n### Sub\n\nBody two.\n"

    def test_structured_boundaries_start_at_heading_lines(self):
        (unit,) = m.parse_markdown(self.MD, "en")
        text, bounds = m.render(unit, "structured")
        self.assertEqual([(text[b["offset"]:].split("\n")[0], b["level"]) for b in bounds],
                         [("## First", 1), ("## Second", 1), ("### Sub", 2)])

    def test_plain_removes_headings_and_keeps_the_coarser_of_coinciding_boundaries(self):
        (unit,) = m.parse_markdown(self.MD, "en")
        text, bounds = m.render(unit, "plain")
        self.assertNotIn("#", text)
        self.assertEqual([(text[b["offset"]:].split("\n")[0], b["level"]) for b in bounds],
                         [("Body one.", 1), ("Body two.", 1)])

    def test_records_have_the_dev_set_fields(self):
        (unit,) = m.parse_markdown(self.MD, "en")
        meta = {"domain": "markdown", "form": "markdown", "lang": "en", "package": "p", "source": "p/md/en/0"}
        recs = m.records(unit, meta)
        self.assertEqual([r["variant"] for r in recs], ["structured", "plain"])
        for r in recs:
            offs = [b["offset"] for b in r["boundaries"]]
            self.assertEqual(offs, sorted(set(offs)))
            self.assertTrue(all(0 < o < len(r["text"]) for o in offs))
            self.assertEqual(r["category"], "markdown")

    def test_code_keeps_source_lines_and_cuts_above_decorators(self):
        src = "import os\n\n\n# helper\n@cache\ndef f():\n    return 1\n\n\nclass C:\n    def m(self):\n        pass\n"
        (unit,) = m.parse_python(src, "en")
        meta = {"domain": "code", "form": "python", "lang": "en", "package": "p", "source": "p/py/en/0"}
        (rec,) = m.records(unit, meta, with_plain=False)
        self.assertEqual(rec["text"], src.rstrip("\n"))
        lines = [rec["text"][b["offset"]:].split("\n")[0] for b in rec["boundaries"]]
        self.assertEqual(lines, ["# helper", "class C:", "    def m(self):"])
        self.assertEqual([b["level"] for b in rec["boundaries"]], [1, 1, 2])

    def test_man_page_sections(self):
        page = '.TH X 1\n.SH NAME\nx \\- do it\n.SH DESCRIPTION\n\\fBx\\fP does it.\n.SS Details\nMore.\n'
        (unit,) = m.parse_man(page, "en")
        text, bounds = m.render(unit, "structured")
        self.assertTrue(text.startswith("NAME\n\nx - do it"))
        self.assertEqual([(text[b["offset"]:].split("\n")[0], b["level"]) for b in bounds],
                         [("DESCRIPTION", 2), ("Details", 3)])


if __name__ == "__main__":
    unittest.main()
