#pragma once
// A small Markdown guide and a two-document segmentation dataset (JSON lines in the format of
// ../shared/data/README.md) shared by the CLI tests of segment / eval with and without --db.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>

namespace blocklens::test {

inline const char* kGuideMarkdown = "# Guide\n\nIntro paragraph with some words.\n\n## Install\n\nRun the installer and wait.\n"
                                    "It takes a while.\n\n## Configure\n\nEdit the file. Then restart.\n\n## Use\n\nEnjoy it.\n";

inline int lineCount(const std::string& s)
{
    return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

// doc-a: the guide, boundaries at its "## " headings (levels 1 and 2), techdoc/structured;
// doc-b: ten short lines with one boundary, book/plain. One JSON object per line.
inline std::string twoDocumentDataset()
{
    const std::string text = kGuideMarkdown;
    nlohmann::json a{{"id", "doc-a"}, {"category", "techdoc"}, {"variant", "structured"}, {"text", text},
                     {"boundaries", {{{"offset", text.find("## Install")}, {"level", 1}},
                                     {{"offset", text.find("## Configure")}, {"level", 2}},
                                     {{"offset", text.find("## Use")}, {"level", 2}}}}};
    nlohmann::json b{{"id", "doc-b"}, {"category", "book"}, {"variant", "plain"},
                     {"text", "one\ntwo\n\nthree\nfour\n\n\n\nfive\nsix\n"},
                     {"boundaries", {{{"offset", 18}, {"level", 1}}}}};
    return a.dump() + "\n" + b.dump() + "\n";
}

} // namespace blocklens::test
