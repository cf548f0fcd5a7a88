#!/usr/bin/env python3
"""Writes the texts that the tokenizer golden tests encode.

Run here (no network needed): python3 tools/golden/make_tokenizer_texts.py ../shared/data/segdev.jsonl
Writes tests/fixtures/tokenizers/texts.json and bench/data/english-1mb.tar.xz (holding
english-1mb.txt, unpacked into the build tree at configure time).
The golden ids/spans are then computed on the GPU machine by make_tokenizer_goldens.py with the
`tokenizers` library (the reference).
"""
import io, json, sys, pathlib, tarfile

root = pathlib.Path(__file__).resolve().parents[2]
segdev = sys.argv[1]
docs = [json.loads(l) for l in open(segdev, encoding="utf-8")]

def first(pred):
    return next(d for d in docs if pred(d))

texts = {
    "empty": "",
    "single_char": "a",
    "english_prose": "The quick brown fox jumps over the lazy dog. It wasn't the fox's fault; they'd been told it'll RAIN, and THEY'VE gone home. \"Quoted,\" she said -- and left...",
    "contractions_upper": "I'M sure YOU'LL see it's HE'D and we'Re ok. Don't won't can't SHOULDN'T.",
    "numbers": "Pi is 3.14159265358979; 1234567890 items cost $1,299.99 (approx. 1e-9 or 12345678901234567890). Year 2026, 0007, 1/2, 99%.",
    "whitespace_runs": "a  b   c    d\t\te\n\n\nf \n \n g\r\nh\r\n\r\n   \t  trailing   \n    leading",
    "only_whitespace": "   \n\t  \n\n ",
    "newlines_only": "\n\n\n\n",
    "python_code": "def fib(n: int) -> int:\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n\n\nclass Foo(Bar):\n    def __init__(self, x=None, **kw):\n        super().__init__(**kw)\n        self._x = x or {}\n",
    "cpp_code": "#include <vector>\ntemplate <typename T>\nstd::vector<T> take(const std::vector<T>& v, std::size_t n) {\n\treturn {v.begin(), v.begin() + std::min(n, v.size())}; // clamp\n}\nint main(){auto x=take<int>({1,2,3},2);return x[0]!=1;}\n",
    "json_markdown": "# Title\n\n## Section 2.1\n\n- item **bold** and `code`\n- [link](https://example.com/a?b=c&d=e#f)\n\n```json\n{\"key\": [1, 2.5, null, true], \"nested\": {\"a\": \"b\"}}\n```\n\n> quote\n| a | b |\n|---|---|\n",
    "chinese": "块注意力将长输入拆分为独立编码的块，每个块的键值缓存只需计算一次。这是一个测试：中文标点符号、数字１２３和English混合。",
    "japanese": "ブロック注意は、長い入力を独立して符号化されるブロックに分割します。ひらがな、カタカナ、漢字が混在しています。",
    "korean": "블록 어텐션은 긴 입력을 독립적으로 인코딩되는 블록으로 나눕니다. 한국어 테스트입니다!",
    "cyrillic": "Блочное внимание разбивает длинный вход на блоки. Съешь же ещё этих мягких французских булок, да выпей чаю. ЁЖИК в тумане, 2026 год.",
    "emoji": "Hello 👋🏽 world 🌍! Family: 👨‍👩‍👧‍👦, flags 🇫🇷🇯🇵, hearts ❤️‍🔥 💖, keycap 1️⃣, text ☺︎ and 🤖🧠⚡.",
    "accents_nfc_nfd": "Café crème vs Cafe\u0301 cre\u0300me; Ångström vs A\u030angstro\u0308m; ñ vs n\u0303; \u1e9b\u0323 and \ufb01 ligature.",
    "arabic_hebrew": "النص العربي مع أرقام ١٢٣ و English. עברית עם ניקוד: שָׁלוֹם.",
    "thai_devanagari": "ภาษาไทยไม่มีช่องว่างระหว่างคำ हिन्दी में लिखा गया पाठ। বাংলা লেখা।",
    "special_token_text": "<|begin_of_text|>Hello<|end_of_text|> <s>[INST] hi [/INST]</s> <|im_start|>user\nhey<|im_end|> <|endoftext|>",
    "long_word": "a" * 300 + " " + "xyz" * 120 + " " + "Supercalifragilisticexpialidocious" * 5,
    "symbols_math": "∀x∈ℝ: x² ≥ 0 ⇒ √(x²)=|x|; ∑ᵢ aᵢ ≈ ∫ f(t) dt ± ε → ∞. ©®™ § ¶ † ‡ • … ‰ € £ ¥ ₿",
    "control_and_rare": "tab\there\u000bvt\u000cff\u00a0nbsp\u2003emsp\u200bzwsp\u2028ls\u2029ps\ufeffbom\ue000pua\ufffdrepl\U0001d400math",
    "mixed_scripts_line": "English, Français, Deutsch (Größe), Español (¿Qué?), Русский, Ελληνικά, 中文, 日本語, 한국어, עברית, العربية, हिन्दी, ไทย 🌐",
    "french_book": first(lambda d: d["lang"] == "fr")["text"][:3000],
    "manual_page": first(lambda d: d["category"] == "manual")["text"][:3000],
    "techdoc_md": first(lambda d: d["category"] == "techdoc" and d["variant"] == "structured")["text"][:3000],
    "code_module": first(lambda d: d["category"] == "code")["text"][:3000],
}

# A 100k-character document: real prose, code and manual text from the dev set plus every
# script above, so spans are checked deep into a long input.
parts, n = [], 0
pool = [d["text"] for d in docs if d["category"] in ("book", "code", "manual", "techdoc")]
extras = [v for k, v in texts.items() if k not in ("empty",)]
i = 0
while n < 100_000:
    chunk = pool[i % len(pool)][:4000] + "\n\n" + extras[i % len(extras)] + "\n"
    parts.append(chunk); n += len(chunk); i += 1
texts["document_100k"] = "".join(parts)[:100_000]

out = root / "tests/fixtures/tokenizers/texts.json"
out.write_text(json.dumps(texts, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
print(f"{len(texts)} texts -> {out}")

# 1 MB of English text (book + techdoc + manual, English only) for the tokenizer speed benchmark.
eng = [d["text"] for d in docs if d["lang"] == "en" and d["category"] in ("book", "techdoc", "manual") and d["variant"] == "structured"]
buf, size, i = [], 0, 0
while size < 1_000_000:
    t = eng[i % len(eng)]; buf.append(t); size += len(t.encode()); i += 1
data = "\n\n".join(buf).encode()[:1_000_000].decode("utf-8", "ignore")
bench = root / "bench/data/english-1mb.tar.xz"
raw = data.encode()
with tarfile.open(bench, "w:xz") as tar:
    info = tarfile.TarInfo("english-1mb.txt")
    info.size = len(raw)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(raw))
print(f"{len(raw)} bytes -> {bench}")
