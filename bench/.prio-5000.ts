import { measurePriority } from '/work/wt-streams/bench/priority';
const f = await measurePriority({ bulk: 5000 });
process.stdout.write(`${JSON.stringify(f, null, 2)}\n`);
