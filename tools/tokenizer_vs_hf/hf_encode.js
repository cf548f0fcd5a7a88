// Times the `tokenizers` npm package (Hugging Face, Rust) on one text, as bench_tokenizer --json
// times BlockLens: load, one cold encode (fresh word cache), then REPS encodes; prints
// {"ms": median, "cold_ms": first, "cpu_ms": median, "cold_cpu_ms": first, "load_ms": ...,
//  "tokens": n, "version": ...} on one line (cpu: the process's user + system CPU time).
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
    const cpuMs = (c) => { const d = process.cpuUsage(c); return (d.user + d.system) / 1e3; };
    t0 = process.hrtime.bigint();
    let c0 = process.cpuUsage();
    let enc = await tok.encode(text, null, opts);
    const coldMs = ms(t0);
    const coldCpuMs = cpuMs(c0);
    const times = [], cpu = [];
    for (let r = 0; r < reps; ++r) {
        t0 = process.hrtime.bigint();
        c0 = process.cpuUsage();
        enc = await tok.encode(text, null, opts);
        times.push(ms(t0));
        cpu.push(cpuMs(c0));
    }
    times.sort((a, b) => a - b);
    cpu.sort((a, b) => a - b);
    const mid = Math.floor(times.length / 2);
    console.log(JSON.stringify({ ms: times[mid], cold_ms: coldMs, cpu_ms: cpu[mid], cold_cpu_ms: coldCpuMs,
                                 load_ms: loadMs, tokens: enc.getIds().length, version }));
}
main().catch((e) => { console.error(e); process.exit(1); });
