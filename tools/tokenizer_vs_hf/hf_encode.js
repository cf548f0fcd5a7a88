// Times the `tokenizers` npm package (Hugging Face, Rust) on one text, as bench_tokenizer --json
// times BlockLens: load, one cold encode (fresh word cache), then REPS encodes; prints
// {"ms": median, "cold_ms": first, "load_ms": ..., "tokens": n, "version": ...} on one line.
// Run with RAYON_NUM_THREADS=1 and NODE_PATH pointing at the folder holding node_modules/tokenizers.
//   node hf_encode.js TOKENIZER_JSON TEXT [REPS]
const fs = require('fs');
const { Tokenizer } = require('tokenizers');
const version = require('tokenizers/package.json').version;

async function main() {
    const [tokPath, textPath, repsArg] = process.argv.slice(2);
    const reps = Number(repsArg || 5);
    const text = fs.readFileSync(textPath, 'utf8');
    let t0 = process.hrtime.bigint();
    const tok = Tokenizer.fromFile(tokPath);
    const ms = (t) => Number(process.hrtime.bigint() - t) / 1e6;
    const loadMs = ms(t0);
    const opts = { addSpecialTokens: false };
    t0 = process.hrtime.bigint();
    let enc = await tok.encode(text, null, opts);
    const coldMs = ms(t0);
    const times = [];
    for (let r = 0; r < reps; ++r) {
        t0 = process.hrtime.bigint();
        enc = await tok.encode(text, null, opts);
        times.push(ms(t0));
    }
    times.sort((a, b) => a - b);
    console.log(JSON.stringify({ ms: times[Math.floor(times.length / 2)], cold_ms: coldMs, load_ms: loadMs,
                                 tokens: enc.getIds().length, version }));
}
main().catch((e) => { console.error(e); process.exit(1); });
