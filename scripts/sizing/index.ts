import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type BenchFigures, sizing, withSizing } from './compute.js';

// npm run sizing            prints the sizing table from bench/results/latest.json
// npm run sizing -- --write  puts it into docs/scaling.md (after a new full bench run)
const root = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const figures = JSON.parse(readFileSync(root('bench/results/latest.json'), 'utf8')) as BenchFigures;
const table = sizing(figures);
if (process.argv.includes('--write')) {
  const doc = root('docs/scaling.md');
  writeFileSync(doc, withSizing(readFileSync(doc, 'utf8'), table));
  process.stdout.write(`docs/scaling.md: sizing table updated from bench/results/latest.json\n`);
} else process.stdout.write(`${table}\n`);
